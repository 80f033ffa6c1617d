"""Mana's own locale formats (FORMAT_MODULE_PATH): see fa/formats.py."""
