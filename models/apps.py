from django.apps import AppConfig


class ManaConfig(AppConfig):
    name = "models"
    label = "mana"
    verbose_name = "سکوی معنا"
    default_auto_field = "django.db.models.BigAutoField"
