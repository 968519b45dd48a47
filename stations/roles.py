"""Roles are Django groups. These names are the contract with API.md and the data migrations."""

from __future__ import annotations

from typing import Any

EDITOR = "editor"
APPROVER = "approver"
SUPERVISOR = "supervisor"
DISTRICT_OPERATOR = "district_operator"
COMMUNE_OPERATOR = "commune_operator"
# A person at one station (StationOperator): plays the day's list by hand and says what aired. Not a
# device: a station's box keeps its own token (StationCredential).
STATION_OPERATOR = "station_operator"
ALL_ROLES = (EDITOR, APPROVER, SUPERVISOR, DISTRICT_OPERATOR, COMMUNE_OPERATOR, STATION_OPERATOR)
# Roles of the staff API (stations.auth.IsStaffReader): a station operator has only their page.
STAFF_API_ROLES = tuple(role for role in ALL_ROLES if role != STATION_OPERATOR)
# Roles that see only part of the registry (their district, or their commune-level units).
OPERATOR_ROLES = (DISTRICT_OPERATOR, COMMUNE_OPERATOR)

ROLE_LABELS = {
    EDITOR: "Biên tập viên",
    APPROVER: "Người duyệt",
    SUPERVISOR: "Giám sát",
    DISTRICT_OPERATOR: "Cán bộ quận/huyện",
    COMMUNE_OPERATOR: "Cán bộ xã/phường",
    STATION_OPERATOR: "Nhân viên đài",
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
    """Data-migration helper: creates the role groups and sets their permissions on `app_label`'s models
    to exactly `grants` (a permission a role no longer has is taken away; other apps' are left alone).

    `grants` maps a role to codenames such as "view_station". Permissions are normally created after
    migrations run, so they are created here first for this app (the default ones and each model's
    Meta.permissions).
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in apps.get_app_config(app_label).get_models():
        ct, _ = ContentType.objects.get_or_create(app_label=app_label, model=model._meta.model_name)
        declared = [(f"{action}_{model._meta.model_name}", f"Can {action} {model._meta.verbose_name_raw}")
                    for action in model._meta.default_permissions]
        for codename, name in [*declared, *model._meta.permissions]:
            Permission.objects.get_or_create(content_type=ct, codename=codename, defaults={"name": name})
    Group = apps.get_model("auth", "Group")
    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)
    for role, codenames in grants.items():
        group = Group.objects.get(name=role)
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.remove(*group.permissions.filter(content_type__app_label=app_label).exclude(pk__in=perms))
        group.permissions.add(*perms)


# Model permissions of each role, per app label: what the API checks (stations.auth.HasPerm), so a
# grant here is the whole rule; the one table of tests/broadcast/test_permission_matrix.py states it.
# Applied by the data migrations and again, exactly, after every migrate/flush (post_migrate).
# Scheduling and cancelling (add/change_schedule) are the supervisor's; approving and rejecting
# (approve_bulletin) the approver's, never on their own bulletin (a rule of the workflow service).
_BROADCAST_READ = [
    "view_bulletin", "view_bulletinrevision", "view_bulletintransition", "view_audiorendition",
    "view_pronunciationentry", "view_schedule", "view_playlist", "view_playlistitem",
]
ROLE_GRANTS: dict[str, dict[str, list[str]]] = {
    "stations": {
        "editor": ["view_district", "view_adminunit", "view_station"],
        "approver": ["view_district", "view_adminunit", "view_station"],
        "supervisor": [
            "view_district", "view_adminunit", "view_station", "change_station", "view_stationstatuschange",
            "view_stationcredential", "add_stationcredential", "change_stationcredential", "view_districtoperator",
            "view_communeoperator",
            # Who runs which station by hand (the admin's «nhân viên đài»).
            "view_stationoperator", "add_stationoperator", "change_stationoperator", "delete_stationoperator",
        ],
        "district_operator": ["view_district", "view_adminunit", "view_station", "view_stationstatuschange"],
        "commune_operator": ["view_district", "view_adminunit", "view_station", "view_stationstatuschange"],
        # A station operator works only on their station's page (/my-station/), not in the staff API.
        "station_operator": [],
    },
    "broadcast": {
        "editor": [*_BROADCAST_READ, "add_bulletin", "change_bulletin", "add_pronunciationentry",
                   "change_pronunciationentry", "delete_pronunciationentry"],
        "approver": [*_BROADCAST_READ, "approve_bulletin", "archive_bulletin"],
        "supervisor": [*_BROADCAST_READ, "archive_bulletin", "add_schedule", "change_schedule", "delete_schedule",
                       "view_playbackreport"],
        # Their district or units only (the scope is applied by the selectors): what airs there, schedules,
        # playlists, coverage.
        "district_operator": ["view_bulletin", "view_schedule", "view_playlist", "view_playlistitem",
                              "view_playbackreport"],
        "commune_operator": ["view_bulletin", "view_schedule", "view_playlist", "view_playlistitem",
                             "view_playbackreport"],
        "station_operator": [],
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
