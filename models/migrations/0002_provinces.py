"""Load the 31 provinces: every installation needs them, so they come with the schema."""

from django.db import migrations


def load_provinces(apps, schema_editor):
    from models.geography import ensure_provinces

    ensure_provinces(apps.get_model("mana", "Province"))


class Migration(migrations.Migration):
    dependencies = [("mana", "0001_initial")]

    operations = [migrations.RunPython(load_provinces, migrations.RunPython.noop)]
