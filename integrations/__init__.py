"""Mana's adapters to services outside it: SMS gateways (``integrations.sms``), the civil registry
and Shahkar (``integrations.identity``), and Sina sign-in. Each is chosen by settings and has an
offline implementation for development and tests beside the real HTTP one."""
