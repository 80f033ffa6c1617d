# Scope reads the units met in referral chains from their own grants (permissions.referral_grants):
# existing chains get theirs here.

from django.db import migrations


def grant_existing_chains(apps, schema_editor):
    from permissions.referral_grants import grant_chain_units_from_referral_grants

    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not Permission.objects.filter(content_type__app_label="mana", codename="view_referral").exists():
        return  # a new database: no chains yet, and the permissions are created after migrating
    # Permissions are normally created after all migrations; this one is needed now.
    organization_type, _ = ContentType.objects.get_or_create(app_label="mana", model="organization")
    Permission.objects.get_or_create(
        content_type=organization_type,
        codename="view_organization_in_chain",
        defaults={"name": "دیدن دستگاهی که در زنجیره ارجاع کاربر آمده است"},
    )
    grant_chain_units_from_referral_grants()


class Migration(migrations.Migration):

    dependencies = [
        ('mana', '0003_referral_workflow'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='organization',
            options={'permissions': [('lead_organization', 'راهبری دستگاه و همه واحدهای زیرمجموعه آن'), ('view_organization_in_chain', 'دیدن دستگاهی که در زنجیره ارجاع کاربر آمده است')], 'verbose_name': 'دستگاه', 'verbose_name_plural': 'دستگاه\u200cها'},
        ),
        migrations.RunPython(grant_existing_chains, migrations.RunPython.noop),
    ]
