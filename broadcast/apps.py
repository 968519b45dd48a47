from django.apps import AppConfig


class BroadcastConfig(AppConfig):
    name = "broadcast"
    verbose_name = "Phát thanh"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the distribution area's signal receivers)
