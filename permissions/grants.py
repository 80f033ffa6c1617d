"""The django-guardian object permissions that back each role.

A role assignment is only the user's claim; the object permission on the organization is what
the scope checks. Granting and revoking happen here, when a role is saved or deleted (from the
API, the admin or a command), and an administrator may also revoke one directly in guardian's
object-permission admin.
"""

from __future__ import annotations

from guardian.shortcuts import assign_perm, remove_perm

from models.roles import Role

# Leaders act on a whole subtree; everybody else on their own unit.
LEAD = "mana.lead_organization"
VIEW = "mana.view_organization"
SUBTREE_ROLES = frozenset({Role.SENIOR_LEADER, Role.MAIN_LEADER})


def permission_for(role: str) -> str:
    return LEAD if role in SUBTREE_ROLES else VIEW


def grant_role_permission(role_assignment) -> None:
    assign_perm(permission_for(role_assignment.role), role_assignment.user, role_assignment.organization)


def revoke_role_permission(role_assignment) -> None:
    from models.users import RoleAssignment

    codename = permission_for(role_assignment.role)
    still_needed = (
        RoleAssignment.objects.filter(user_id=role_assignment.user_id, organization_id=role_assignment.organization_id)
        .exclude(pk=role_assignment.pk)
        .filter(role__in=[r for r in Role if permission_for(r) == codename])
        .exists()
    )
    if not still_needed:
        remove_perm(codename, role_assignment.user, role_assignment.organization)
