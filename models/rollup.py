"""How provincial slices relate to their parent, per the indicator's roll-up rule.

* SUM (counts, amounts: «تعداد», «تراوات ساعت», «میلیون دلار»): the parent is the sum of its
  slices — the slice targets must add up to the parent's target, and the approved slice values
  add up to the parent's value.
* AVERAGE (rates and percentages: «درصد»): the parent is the plain mean of its slices.
* WEIGHTED_AVERAGE: the parent is Σ(weightᵢ × sliceᵢ) / Σ weightᵢ, with each slice's weight
  (for example the province's population or budget share) given when splitting.

Targets must be consistent to within 0.0001, the precision they are stored with.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from models.indicators import RollupRule

TOLERANCE = Decimal("0.0001")
STORED = Decimal("0.0001")


def combine(rule: str, values: Sequence[Decimal], weights: Sequence[Decimal] | None = None) -> Decimal:
    if not values:
        raise ValueError("nothing to combine")
    if rule == RollupRule.SUM:
        result = sum(values, Decimal(0))
    elif rule == RollupRule.AVERAGE:
        result = sum(values, Decimal(0)) / len(values)
    elif rule == RollupRule.WEIGHTED_AVERAGE:
        weights = weights or [Decimal(1)] * len(values)
        result = sum((w * v for w, v in zip(weights, values, strict=True)), Decimal(0)) / sum(weights, Decimal(0))
    else:
        raise ValueError(f"unknown roll-up rule {rule!r}")
    return result.quantize(STORED)


def targets_consistent(rule: str, parent_target: Decimal, targets: Sequence[Decimal], weights=None) -> bool:
    return abs(combine(rule, targets, weights) - parent_target) <= TOLERANCE


RULE_MESSAGES = {
    RollupRule.SUM: "مجموع هدف برش‌ها باید با هدف بالادست ({target}) برابر باشد؛ اکنون {combined} است.",
    RollupRule.AVERAGE: "میانگین هدف برش‌ها باید با هدف بالادست ({target}) برابر باشد؛ اکنون {combined} است.",
    RollupRule.WEIGHTED_AVERAGE: (
        "میانگین وزنی هدف برش‌ها باید با هدف بالادست ({target}) برابر باشد؛ اکنون {combined} است."
    ),
}
