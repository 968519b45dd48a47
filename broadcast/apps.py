from django.apps import AppConfig


class BroadcastConfig(AppConfig):
    name = "broadcast"
    verbose_name = "Phát thanh"

    def ready(self) -> None:
        # receivers: the distribution area's signal receivers; schema: the OpenAPI staff token scheme.
        from . import receivers, schema  # noqa: F401
