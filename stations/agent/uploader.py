"""The report queue to the server, in batches; an entry leaves the queue only once the server answered it.

After a 200 every report of the batch was accepted, a duplicate (the server already had it: e.g. the
agent died after sending and before deleting) or rejected (it would be rejected again: logged and kept
as the last error). A timeout deletes nothing, so the same batch is sent again as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from stations.agent.http import BadRequest, RetryLater, TooLarge

log = logging.getLogger("loa.agent.uploader")

BATCH = 500


@dataclass
class FlushResult:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float | None = None  # set when the server or the network asked to wait
    remaining: int = 0


class Uploader:
    def __init__(self, api: Any, store: Any, batch_size: int = BATCH):
        self.api = api
        self.store = store
        self.batch_size = max(1, min(int(batch_size), BATCH))
        self.failing = False  # logs the change to failing and back, not every attempt

    def flush(self, max_batches: int = 100) -> FlushResult:
        """Sends the queue until it is empty (or `max_batches` were sent). A transient failure ends the flush
        with `retry_after` set and the rest queued; `Unauthorized` propagates (the loop waits for a token)."""
        result = FlushResult()
        limit = self.batch_size  # lowered for the rest of the flush by a 413
        size = limit  # lowered until the next success while a 400 is narrowed down to one report
        for _ in range(max_batches):
            batch = self.store.queue_batch(size)
            if not batch:
                break
            try:
                answer = self.api.upload_reports(batch)
            except RetryLater as exc:
                result.retry_after = exc.seconds
                if not self.failing:
                    log.warning("Chưa gửi được báo cáo (%s); sẽ thử lại.", exc)
                    self.failing = True
                break
            except TooLarge:
                if len(batch) == 1:
                    self._drop(batch, "Báo cáo quá lớn, máy chủ không nhận.", result)
                    continue
                limit = size = max(1, len(batch) // 2)
                continue
            except BadRequest as exc:
                if exc.status != 400:
                    # 403/404/405…: a wrong server address or a proxy, not the reports' fault; keep them all.
                    self.store.set_last_error(f"Không gửi được báo cáo: {exc}")
                    if not self.failing:
                        log.error("Không gửi được báo cáo: %s", exc)
                        self.failing = True
                    result.retry_after = 300.0
                    break
                # A malformed envelope: one report in the batch breaks it. Halve until it is alone, then drop it
                # so it never blocks the others.
                if len(batch) == 1:
                    self._drop(batch, f"Máy chủ từ chối báo cáo: {exc}", result)
                    continue
                size = max(1, len(batch) // 2)
                continue
            if self.failing:
                log.info("Đã gửi lại được báo cáo.")
                self.failing = False
            result.sent += len(batch)
            result.accepted += int(answer.get("accepted") or 0)
            result.duplicates += int(answer.get("duplicates") or 0)
            rejected = list(answer.get("rejected") or [])
            for entry in rejected:
                log.error("Máy chủ từ chối báo cáo %s: %s", entry.get("report_id"), entry.get("errors"))
            if rejected:
                first = rejected[0]
                self.store.set_last_error(f"Báo cáo {first.get('report_id')} bị từ chối: {first.get('errors')}")
            result.rejected.extend(rejected)
            self.store.queue_delete(r["report_id"] for r in batch)
            size = limit
        result.remaining = self.store.queue_length()
        return result

    def _drop(self, batch: list[dict[str, Any]], reason: str, result: FlushResult) -> None:
        for body in batch:
            log.error("Bỏ báo cáo %s: %s", body.get("report_id"), reason)
            result.rejected.append({"report_id": body.get("report_id"), "errors": {"detail": [reason]}})
        self.store.set_last_error(reason)
        self.store.queue_delete(b["report_id"] for b in batch)
