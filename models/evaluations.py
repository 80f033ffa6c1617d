"""Evaluation of a finalized assignment by an evaluator, with feedback (بازخورد)."""

from django.db import models
from django.db.models import Q


class Evaluation(models.Model):
    assignment = models.ForeignKey(
        "mana.Assignment", verbose_name="ابلاغ", on_delete=models.CASCADE, related_name="evaluations"
    )
    evaluator = models.ForeignKey(
        "mana.User", verbose_name="ارزیاب", on_delete=models.PROTECT, related_name="evaluations"
    )
    score = models.DecimalField("امتیاز", max_digits=8, decimal_places=2)
    feedback = models.TextField("بازخورد")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "ارزیابی"
        verbose_name_plural = "ارزیابی‌ها"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "evaluator"], name="evaluation_once_per_evaluator"),
            models.CheckConstraint(name="evaluation_score_not_negative", condition=Q(score__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} — {self.evaluator}"
