"""The actors and their roles (docs/product.md)."""

from django.db import models


class Role(models.TextChoices):
    SENIOR_LEADER = "SENIOR_LEADER", "راهبر ارشد"
    MAIN_LEADER = "MAIN_LEADER", "راهبر اصلی"
    PROVINCIAL_LEADER = "PROVINCIAL_LEADER", "معاون توسعه مدیریت استان"
    SELF_EVALUATOR = "SELF_EVALUATOR", "خودارزیاب / متولی شاخص"
    EVALUATOR = "EVALUATOR", "ارزیاب"
    HONORARY_EVALUATOR = "HONORARY_EVALUATOR", "ارزیاب افتخاری"
