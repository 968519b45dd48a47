from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = "Đài truyền thanh"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from .broker import on_stations_changed
        from .roles import ensure_role_groups
        from .signals import stations_changed

        # Every app's post_migrate (also sent after a test flush) re-applies that app's role grants.
        post_migrate.connect(ensure_role_groups, dispatch_uid="loa-ensure-role-groups")
        # A station's code (its MQTT user name) or active flag changed: the broker's password file follows.
        stations_changed.connect(on_stations_changed, dispatch_uid="loa-broker-sync")
