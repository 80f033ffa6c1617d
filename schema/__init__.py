"""The typed GraphQL surface of Mana."""
