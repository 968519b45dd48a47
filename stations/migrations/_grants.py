"""Frozen helpers for the role-grant data migrations of both apps (not a migration: the leading
underscore keeps the loader away). Migrations must replay the same way forever, so these never follow
the runtime code in stations/roles.py; change them only by adding a new helper."""

ROLES = ("editor", "approver", "supervisor", "district_operator")


def grant_permissions(apps, app_label, grants):
    """Creates the role groups and sets their permissions on `app_label`'s models to exactly `grants`
    (role → codenames). Permissions are normally created after migrations run, so they are created here
    first for this app (the default ones and each model's Meta.permissions)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in apps.get_app_config(app_label).get_models():
        ct, _ = ContentType.objects.get_or_create(app_label=app_label, model=model._meta.model_name)
        declared = [(f"{action}_{model._meta.model_name}", f"Can {action} {model._meta.verbose_name_raw}")
                    for action in model._meta.default_permissions]
        for codename, name in [*declared, *model._meta.permissions]:
            Permission.objects.get_or_create(content_type=ct, codename=codename, defaults={"name": name})
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for role, codenames in grants.items():
        group = Group.objects.get(name=role)
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.remove(*group.permissions.filter(content_type__app_label=app_label).exclude(pk__in=perms))
        group.permissions.add(*perms)


def permission(apps, app_label, codename, name=None):
    """The permission `app_label.codename` (`<action>_<model>`), created when the post-migrate step has
    not made it yet."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    ct, _ = ContentType.objects.get_or_create(app_label=app_label, model=codename.split("_", 1)[1])
    perm, _ = Permission.objects.get_or_create(
        content_type=ct, codename=codename, defaults={"name": name or codename.replace("_", " ")})
    return perm


def regrant(apps, app_label, grant=(), revoke=(), names=None):
    """Adds the (role, codename) pairs of `grant` and takes away those of `revoke`."""
    Group = apps.get_model("auth", "Group")
    names = names or {}
    for pairs, add in ((grant, True), (revoke, False)):
        for role, codename in pairs:
            group, _ = Group.objects.get_or_create(name=role)
            perm = permission(apps, app_label, codename, names.get(codename))
            (group.permissions.add if add else group.permissions.remove)(perm)
