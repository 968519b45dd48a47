"""Writes the MQTT broker's files (mosquitto.conf, password and ACL files) from the settings and the live
station credentials; `--reload` makes a running broker read them again. Run the broker with
`mosquitto -c <MQTT_BROKER_DIR>/mosquitto.conf`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stations import broker


class Command(BaseCommand):
    help = (
        "Ghi cấu hình broker MQTT (mosquitto.conf, tệp mật khẩu và ACL của các đài) vào MQTT_BROKER_DIR; "
        "--reload: báo broker đang chạy nạp lại."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, help="thư mục cấu hình (mặc định MQTT_BROKER_DIR)")
        parser.add_argument(
            "--bind", default="",
            help="địa chỉ cổng của các đài (mặc định: mọi địa chỉ; ví dụ 127.0.0.1 khi chỉ chạy thử trên máy này)",
        )
        parser.add_argument("--reload", action="store_true", help="gửi SIGHUP cho broker đang chạy")
        parser.add_argument(
            "--no-stations", action="store_true",
            help="không đọc cơ sở dữ liệu: tệp mật khẩu của các đài để trống (cơ sở dữ liệu chưa migrate, ví dụ CI)",
        )

    def handle(self, *args, directory: Path | None, bind: str, reload: bool, no_stations: bool, **options):
        try:
            config = broker.config_from_settings(directory=directory, station_bind=bind)
            _, password = broker.internal_credentials()
            changed = broker.write_config(config, internal_password=password, with_stations=not no_stations)
        except (broker.BrokerConfigError, OSError) as error:
            raise CommandError(f"Không ghi được cấu hình broker MQTT: {error}") from error
        stations = 0 if no_stations else len(broker.station_entries())
        self.stdout.write(
            f"Cấu hình broker MQTT ở {config.directory}: {stations} đài có mật khẩu MQTT; "
            + (f"đã ghi {', '.join(changed)}." if changed else "không có gì thay đổi.")
        )
        if reload:
            if broker.reload_broker(config.directory):
                self.stdout.write("Đã báo broker nạp lại cấu hình.")
            else:
                self.stdout.write("Không có broker đang chạy với cấu hình này; nó sẽ dùng tệp mới khi khởi động.")
