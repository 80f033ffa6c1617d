"""Thin resolvers: read the input, ask the domain, shape the answer."""
