"""Permission names in Persian: «افزودن ارجاع», not «Can add ارجاع».

Django names each model's default permissions in English when it creates them («Can add %s») and
stores that name; the console shows it wherever a permission is chosen or listed (a user's and a
group's permissions, guardian's object-permission pages). After every migrate this gives the default
permissions of every installed app their Persian names. The few library models without a Persian
name of their own are named here.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS, router
from django.utils import translation

ACTIONS = {"add": "افزودن", "change": "تغییر", "delete": "حذف", "view": "مشاهده"}

# Library models whose verbose_name is not marked for translation (their app's own text).
MODEL_NAMES = {
    "captcha.captchastore": "کد امنیتی",
    "guardian.userobjectpermission": "مجوز موردی کاربر",
    "guardian.groupobjectpermission": "مجوز موردی گروه",
}

# Apps whose verbose_name is not marked for translation: set by models/admin_third_party.py.
APP_NAMES = {
    "axes": "قفل ورود (تلاش‌های ورود)",
    "django_tasks_database": "کارهای پس‌زمینه",
    "guardian": "مجوزهای موردی",
    "captcha": "کد امنیتی",
}


def model_name(opts) -> str:
    return MODEL_NAMES.get(opts.label_lower, str(opts.verbose_name))


def permission_name(action: str, opts) -> str:
    # Permission.name holds 255 characters.
    return f"{ACTIONS[action]} {model_name(opts)}"[:255]


def name_permissions_in_persian(app_config, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:
    """post_migrate: the default permissions of ``app_config``'s models named in Persian.

    Connected before django.contrib.auth's own receiver, so the permissions are created here first
    (create_permissions creates only what is missing; auth's call then finds them).
    """
    try:
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    if not app_config.models_module or not router.allow_migrate_model(using, Permission):
        return
    create_permissions(app_config, using=using, apps=apps, **{**kwargs, "verbosity": 0})
    with translation.override("fa"):
        for model in global_apps.get_app_config(app_config.label).get_models():
            opts = model._meta
            for action in opts.default_permissions:
                if action not in ACTIONS:
                    continue
                name = permission_name(action, opts)
                Permission.objects.using(using).filter(
                    content_type__app_label=opts.app_label,
                    content_type__model=opts.model_name,
                    codename=get_permission_codename(action, opts),
                ).exclude(name=name).update(name=name)
