"""Roles are Django groups. These names are the contract with API.md and the data migrations."""

from __future__ import annotations

from typing import Any

EDITOR = "editor"
APPROVER = "approver"
SUPERVISOR = "supervisor"
DISTRICT_OPERATOR = "district_operator"
ALL_ROLES = (EDITOR, APPROVER, SUPERVISOR, DISTRICT_OPERATOR)

ROLE_LABELS = {
    EDITOR: "Biên tập viên",
    APPROVER: "Người duyệt",
    SUPERVISOR: "Giám sát",
    DISTRICT_OPERATOR: "Cán bộ quận/huyện",
}


def user_roles(user: Any) -> set[str]:
    """The role names of a staff user (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "groups"):
        return set()
    cached = getattr(user, "_loa_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._loa_roles = cached
    return cached


def has_role(user: Any, *roles: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(user_roles(user) & set(roles))


def grant_permissions(apps: Any, app_label: str, grants: dict[str, list[str]]) -> None:
    """Data-migration helper: creates the role groups and gives them `app_label`'s model permissions.

    `grants` maps a role to codenames such as "view_station". Permissions are normally created after
    migrations run, so they are created here first for this app.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in apps.get_app_config(app_label).get_models():
        ct, _ = ContentType.objects.get_or_create(app_label=app_label, model=model._meta.model_name)
        for action in model._meta.default_permissions:
            Permission.objects.get_or_create(
                content_type=ct,
                codename=f"{action}_{model._meta.model_name}",
                defaults={"name": f"Can {action} {model._meta.verbose_name_raw}"},
            )
    Group = apps.get_model("auth", "Group")
    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)
    for role, codenames in grants.items():
        group = Group.objects.get(name=role)
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.add(*perms)
