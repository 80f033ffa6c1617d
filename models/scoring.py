"""The score of a registered performance — the one place the formula lives (docs/workflow.md).

    achievement = value / target            (higher is better)
                = target / value            (lower is better)
    score       = min(cap, weight × achievement), rounded to 2 decimals, never below 0

Bounds (حد پایین / حد بالای هدف), when given, limit what counts:

* higher is better: a value below the lower bound scores 0; a value above the upper bound
  counts as the upper bound;
* lower is better: a value above the upper bound scores 0; a value below the lower bound
  counts as the lower bound.

Edge cases: a missing value has no score (None); a zero or negative target has no meaningful
ratio, so the score is None; a value of 0 scores 0 when higher is better and the full cap when
lower is better (nothing left of what should shrink); a negative value scores 0.

In the seed the cap is twice the weight (170/85, 145/72, 100/50): reaching the target earns the
weight, doing twice as well earns the cap.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from models.indicators import IndicatorNature

CENT = Decimal("0.01")


def score(
    *,
    value: Decimal | None,
    target: Decimal,
    weight: Decimal,
    cap: Decimal,
    nature: str,
    lower_bound: Decimal | None = None,
    upper_bound: Decimal | None = None,
) -> Decimal | None:
    if value is None or target is None or target <= 0:
        return None
    higher_is_better = nature == IndicatorNature.HIGHER_IS_BETTER
    if value < 0:
        return Decimal("0.00")
    if higher_is_better:
        if lower_bound is not None and value < lower_bound:
            return Decimal("0.00")
        if upper_bound is not None and value > upper_bound:
            value = upper_bound
        achievement = value / target
    else:
        if upper_bound is not None and value > upper_bound:
            return Decimal("0.00")
        if lower_bound is not None and value < lower_bound:
            value = lower_bound
        if value == 0:
            return cap.quantize(CENT, rounding=ROUND_HALF_UP)
        achievement = target / value
    return max(Decimal(0), min(cap, weight * achievement)).quantize(CENT, rounding=ROUND_HALF_UP)


def referral_score(
    *,
    value: Decimal | None,
    target: Decimal,
    is_slice: bool,
    weight: Decimal,
    cap: Decimal,
    nature: str,
    lower_bound: Decimal | None,
    upper_bound: Decimal | None,
) -> Decimal | None:
    """The score of a value registered on a referral, with the assignment's weight and cap.

    The bounds belong to the organization's target; a provincial slice is scored on its own
    target, without them.
    """
    return score(
        value=value,
        target=target,
        weight=weight,
        cap=cap,
        nature=nature,
        lower_bound=None if is_slice else lower_bound,
        upper_bound=None if is_slice else upper_bound,
    )
