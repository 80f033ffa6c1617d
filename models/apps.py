from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class ManaConfig(AppConfig):
    name = "models"
    label = "mana"
    verbose_name = "سکوی معنا"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the signal that withdraws chain-unit grants with their referral grants.
        import permissions.referral_grants  # noqa: F401
        from schema.multipart_names import install

        # Keeps the Persian half-space (ZWNJ) in uploaded file names.
        install()

        from models import jalali_format
        from models.permission_names import name_permissions_in_persian

        # Dates that Django formats (the admin console's, its history pages') are Jalali under Persian.
        jalali_format.install()
        # Before django.contrib.auth's receiver (this app is first): permission names in Persian.
        post_migrate.connect(name_permissions_in_persian, dispatch_uid="mana.permission_names")


class ManaAdminConfig(AdminConfig):
    """django.contrib.admin (INSTALLED_APPS names this instead), whose pages of other libraries
    are made Persian once every app has registered its own (models/admin_third_party.py)."""

    def ready(self) -> None:
        super().ready()
        import models.admin_third_party  # noqa: F401
