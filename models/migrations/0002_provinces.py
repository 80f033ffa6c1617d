"""Load the 31 provinces: every installation needs them, so they come with the schema."""

from django.db import migrations


def load_provinces(apps, schema_editor):
    from models.geography import PROVINCES

    Province = apps.get_model("mana", "Province")
    for code, name in PROVINCES:
        Province.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("mana", "0001_initial")]

    operations = [migrations.RunPython(load_provinces, migrations.RunPython.noop)]
