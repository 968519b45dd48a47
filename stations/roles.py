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


# Model permissions of each role, per app label. Applied by each app's data migration and again after
# every migrate/flush (post_migrate), so test flushes and new models never leave a role without them.
_BROADCAST_READ = [
    "view_bulletin", "view_bulletinrevision", "view_bulletintransition", "view_audiorendition",
    "view_pronunciationentry", "view_schedule", "view_playlist", "view_playlistitem",
]
ROLE_GRANTS: dict[str, dict[str, list[str]]] = {
    "stations": {
        "editor": ["view_district", "view_station"],
        "approver": ["view_district", "view_station"],
        "supervisor": [
            "view_district", "view_station", "change_station", "view_stationstatuschange",
            "view_stationcredential", "add_stationcredential", "view_districtoperator",
        ],
        "district_operator": ["view_district", "view_station", "view_stationstatuschange"],
    },
    "broadcast": {
        "editor": [*_BROADCAST_READ, "add_bulletin", "change_bulletin", "add_pronunciationentry",
                   "change_pronunciationentry", "delete_pronunciationentry", "add_schedule"],
        "approver": [*_BROADCAST_READ, "change_bulletin", "add_schedule"],
        "supervisor": [*_BROADCAST_READ, "add_schedule", "change_schedule", "delete_schedule", "view_playbackreport"],
        "district_operator": ["view_playlist", "view_playlistitem", "view_playbackreport"],
    },
}


def ensure_role_groups(sender: Any, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate receiver: (re)creates the role groups and grants for the app just migrated."""
    if sender.label not in ROLE_GRANTS:
        return
    if apps is None:  # `flush` (test teardown) sends post_migrate without the migration state
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        apps.get_model("auth", "Group")
        apps.get_app_config(sender.label)
    except LookupError:
        return
    grant_permissions(apps, sender.label, ROLE_GRANTS[sender.label])
