"""Apply the retention policy now: `manage.py prune [--dry-run]` (the beat task does it nightly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from broadcast.services.retention import prune

LABELS = {
    "status_changes": "lịch sử trạng thái đài",
    "play_log_reports": "báo cáo phát (quá hạn lưu trữ pháp lý)",
    "play_log_playlists": "danh sách phát (quá hạn lưu trữ pháp lý)",
    "play_log_items": "mục phát (quá hạn lưu trữ pháp lý)",
    "renditions": "bản âm thanh không còn dùng",
    "rendition_files": "tệp âm thanh của phiên bản cũ",
    "upload_files": "tệp tải lên lỗi hoặc bị thay thế",
    "orphan_audio_files": "tệp âm thanh mồ côi",
    "cache_files": "tệp đệm (gói ZIP, bản cho trình phát)",
    "broker_messages": "tin nhắn Celery đã giao (SQLite)",
}


class Command(BaseCommand):
    help = "Xóa dữ liệu cũ theo chính sách lưu trữ (RETENTION_* trong cấu hình). --dry-run: chỉ đếm."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be removed, change nothing")

    def handle(self, *args: object, **options: object) -> None:
        result = prune(dry_run=bool(options["dry_run"]))
        verb = "Sẽ xóa" if result.dry_run else "Đã xóa"
        for kind, count in result.counts.items():
            self.stdout.write(f"{verb} {count} {LABELS.get(kind, kind)} [{kind}]")
        self.stdout.write(f"{'Tổng (chạy thử)' if result.dry_run else 'Tổng'}: {result.total}")
