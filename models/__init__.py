"""Mana's domain: the Django app (label ``mana``) with its models and the rules they keep.

Import models from their modules (``models.organization``…); ``models.models`` only gathers them
for Django's app registry.
"""
