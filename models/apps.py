from django.apps import AppConfig


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
