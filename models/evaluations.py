"""Evaluation of a finalized assignment by an evaluator, with feedback (بازخورد), and who was
given which assignment to evaluate."""

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
    created_at = models.DateTimeField("زمان ثبت", auto_now_add=True)
    updated_at = models.DateTimeField("زمان ویرایش", auto_now=True)
    # The organization reads the score and feedback only once published.
    published_at = models.DateTimeField("زمان انتشار", null=True, blank=True)

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


class EvaluatorAssignment(models.Model):
    """The senior leader gives an organization's finalized assignment to an evaluator (ارزیاب) or
    an honorary evaluator (ارزیاب افتخاری): what that evaluator may read and score."""

    assignment = models.ForeignKey(
        "mana.Assignment", verbose_name="ابلاغ", on_delete=models.CASCADE, related_name="evaluator_assignments"
    )
    evaluator = models.ForeignKey(
        "mana.User", verbose_name="ارزیاب", on_delete=models.PROTECT, related_name="evaluator_assignments"
    )
    assigned_by = models.ForeignKey(
        "mana.User", verbose_name="تخصیص‌دهنده", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("زمان تخصیص", auto_now_add=True)

    class Meta:
        verbose_name = "تخصیص ارزیاب"
        verbose_name_plural = "تخصیص‌های ارزیاب"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "evaluator"], name="evaluator_assignment_once"),
        ]
        # An evaluator's list (and the scope check "given to me") leads with the evaluator.
        indexes = [models.Index(fields=["evaluator", "assignment"], name="evaluator_assignment_of_person")]

    def __str__(self) -> str:
        return f"{self.evaluator} — {self.assignment}"
