"""The 31 provinces: the horizontal dimension of the organization tree."""

from django.db import models

# ISO 3166-2:IR codes: stable, public, and what other government systems already exchange.
PROVINCES: list[tuple[str, str]] = [
    ("IR-00", "مرکزی"),
    ("IR-01", "گیلان"),
    ("IR-02", "مازندران"),
    ("IR-03", "آذربایجان شرقی"),
    ("IR-04", "آذربایجان غربی"),
    ("IR-05", "کرمانشاه"),
    ("IR-06", "خوزستان"),
    ("IR-07", "فارس"),
    ("IR-08", "کرمان"),
    ("IR-09", "خراسان رضوی"),
    ("IR-10", "اصفهان"),
    ("IR-11", "سیستان و بلوچستان"),
    ("IR-12", "کردستان"),
    ("IR-13", "همدان"),
    ("IR-14", "چهارمحال و بختیاری"),
    ("IR-15", "لرستان"),
    ("IR-16", "ایلام"),
    ("IR-17", "کهگیلویه و بویراحمد"),
    ("IR-18", "بوشهر"),
    ("IR-19", "زنجان"),
    ("IR-20", "سمنان"),
    ("IR-21", "یزد"),
    ("IR-22", "هرمزگان"),
    ("IR-23", "تهران"),
    ("IR-24", "اردبیل"),
    ("IR-25", "قم"),
    ("IR-26", "قزوین"),
    ("IR-27", "گلستان"),
    ("IR-28", "خراسان شمالی"),
    ("IR-29", "خراسان جنوبی"),
    ("IR-30", "البرز"),
]


class Province(models.Model):
    code = models.CharField("کد", max_length=8, unique=True)
    name = models.CharField("نام", max_length=64, unique=True)

    class Meta:
        verbose_name = "استان"
        verbose_name_plural = "استان‌ها"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def ensure_provinces(province_model=Province) -> None:
    """Create the 31 provinces where missing (the migration, and demo loads after a flush)."""
    for code, name in PROVINCES:
        province_model.objects.update_or_create(code=code, defaults={"name": name})
