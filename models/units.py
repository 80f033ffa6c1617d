"""Units of measure (واحد سنجش) that count things, and so cannot be negative.

An indicator's unit is free text. A count — «تعداد» (number of), «عدد», «مورد» (cases),
«فقره» (items), «نفر» (persons) — is never below zero: -3 villages supplied with water is a typing
mistake, not a result. Other units can be: a percentage or an amount compared with last year
(«درصد», «میلیون دلار» of export growth) may fall. Durations and quantities such as «روز» or
«تراوات ساعت» are not negative either, but they are measures whose unit text varies too much to
recognise safely; they are not refused here.

A unit is a count when its first word is one of COUNT_WORDS, after folding ي/ك and half-spaces:
«تعداد طرح» and «نفر-ساعت» are counted (neither can be negative), «درصد» and «میلیارد ریال» are not.
"""

from __future__ import annotations

from decimal import Decimal

from models.errors import DomainError
from models.text import normalize_for_search

COUNT_WORDS = frozenset({"تعداد", "عدد", "مورد", "فقره", "نفر"})


def is_count(unit: str) -> bool:
    words = normalize_for_search(unit or "").replace("-", " ").split()
    return bool(words) and words[0] in COUNT_WORDS


def refuse_negative_count(unit: str, value: Decimal | None, field: str) -> None:
    if value is not None and value < 0 and is_count(unit):
        raise DomainError(
            "NEGATIVE_NOT_ALLOWED", f"واحد سنجش این شاخص «{unit}» است و مقدار آن نمی‌تواند منفی باشد.", field
        )
