"""django-guardian object permissions on organizations, in direct foreign-key tables.

Direct tables (instead of guardian's generic ones) let a scope check be one indexed join or
EXISTS on ``content_object_id``, with no content-type casting. The user, group and permission
fields are guardian's, named again here only to give them Persian names for the admin console.
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class PersianNamesMixin:
    def __str__(self) -> str:
        # guardian's own names the permission by its codename («lead_organization»).
        holder = getattr(self, "user", None) or self.group
        return f"{self.content_object} | {holder} | {self.permission.name}"


class OrganizationUserObjectPermission(PersianNamesMixin, UserObjectPermissionBase):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="کاربر", on_delete=models.CASCADE)
    permission = models.ForeignKey(Permission, verbose_name="مجوز", on_delete=models.CASCADE)
    content_object = models.ForeignKey("mana.Organization", verbose_name="دستگاه", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "مجوز کاربر روی دستگاه"
        verbose_name_plural = "مجوزهای کاربران روی دستگاه‌ها"


class OrganizationGroupObjectPermission(PersianNamesMixin, GroupObjectPermissionBase):
    group = models.ForeignKey(Group, verbose_name="گروه", on_delete=models.CASCADE)
    permission = models.ForeignKey(Permission, verbose_name="مجوز", on_delete=models.CASCADE)
    content_object = models.ForeignKey("mana.Organization", verbose_name="دستگاه", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "مجوز گروه روی دستگاه"
        verbose_name_plural = "مجوزهای گروه‌ها روی دستگاه‌ها"


class ReferralUserObjectPermission(PersianNamesMixin, UserObjectPermissionBase):
    """The assignee's ``change_referral`` and every referrer's ``view_referral`` up the chain."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="کاربر", on_delete=models.CASCADE)
    permission = models.ForeignKey(Permission, verbose_name="مجوز", on_delete=models.CASCADE)
    content_object = models.ForeignKey("mana.Referral", verbose_name="ارجاع", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "مجوز کاربر روی ارجاع"
        verbose_name_plural = "مجوزهای کاربران روی ارجاع‌ها"
