"""Sizes as people read them in messages."""

from __future__ import annotations


def readable_size(size: int) -> str:
    """``10 مگابایت``, ``1.5 مگابایت``, ``512 کیلوبایت``: never a limit rounded down to «0 مگابایت»."""
    for unit, name in ((1024 * 1024, "مگابایت"), (1024, "کیلوبایت")):
        if size >= unit:
            return f"{round(size / unit, 1):g} {name}"
    return f"{size} بایت"
