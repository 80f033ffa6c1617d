"""django-guardian object permissions on organizations, in direct foreign-key tables.

Direct tables (instead of guardian's generic ones) let a scope check be one indexed join or
EXISTS on ``content_object_id``, with no content-type casting.
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class OrganizationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("mana.Organization", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "مجوز کاربر روی دستگاه"
        verbose_name_plural = "مجوزهای کاربران روی دستگاه‌ها"


class OrganizationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("mana.Organization", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "مجوز گروه روی دستگاه"
        verbose_name_plural = "مجوزهای گروه‌ها روی دستگاه‌ها"


class ReferralUserObjectPermission(UserObjectPermissionBase):
    """The assignee's ``change_referral`` and every referrer's ``view_referral`` up the chain."""

    content_object = models.ForeignKey("mana.Referral", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "مجوز کاربر روی ارجاع"
        verbose_name_plural = "مجوزهای کاربران روی ارجاع‌ها"
