"""Text normalization for what Iranians type: Persian/Arabic digits and letters fold to one form."""

from __future__ import annotations

# Persian (U+06F0…) and Arabic-Indic (U+0660…) digits both fold to ASCII.
_DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")} | {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
# Arabic yeh/kaf (and their variants) are what many keyboards and old systems produce; Persian
# text search must find «کیفیت» whether it was typed with ي/ك or ی/ک.
_LETTERS = {
    ord("ي"): "ی",
    ord("ى"): "ی",
    ord("ك"): "ک",
    ord("ة"): "ه",
    ord("ۀ"): "ه",
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("\u200c"): " ",  # zero-width non-joiner: «می‌شود» matches «می شود»
}
_SEARCH = _DIGITS | _LETTERS


def to_latin_digits(value: str) -> str:
    return value.translate(_DIGITS)


def normalize_for_search(value: str) -> str:
    """The form stored beside a name and applied to a query, so both meet in one place."""
    folded = value.translate(_SEARCH).strip().lower()
    return " ".join(folded.split())
