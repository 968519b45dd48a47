"""The OpenAPI schema's error answers: every operation lists the 4xx it can really give, with a
Vietnamese error body (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS).

Which statuses an operation documents follows from the view, so a new endpoint gets them too:
400 always (malformed query, body or a NUL byte), 401/403 when it needs a login or a role, 404 when
its path or query names something (an id, a code, a district, a page), 413/415 when it takes a body,
429 when it is throttled, and 409 for writes of views that set `may_conflict = True`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Lỗi: `detail` là thông báo tiếng Việt; `code`, nếu có, là mã lỗi cố định cho máy đọc.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Dữ liệu không hợp lệ: mỗi trường sai kèm danh sách thông báo tiếng Việt (lồng theo cấu trúc "
        "của dữ liệu gửi lên), hoặc `detail` (và `code`) cho lỗi của cả yêu cầu."
    ),
    "additionalProperties": {},
    "example": {"title": ["Trường này là bắt buộc."]},
}

DESCRIPTIONS = {
    400: "Yêu cầu không hợp lệ (dữ liệu, tham số, JSON sai cú pháp hoặc có ký tự NUL).",
    401: "Chưa xác thực, hoặc khóa truy cập không hợp lệ.",
    403: "Không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy.",
    409: "Xung đột với trạng thái hiện tại.",
    413: "Nội dung yêu cầu quá lớn.",
    415: "Kiểu nội dung (Content-Type) không được hỗ trợ.",
    429: "Quá nhiều yêu cầu; thử lại sau số giây trong tiêu đề Retry-After.",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoaAutoSchema(AutoSchema):
    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str,
                      registry: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status in sorted(self.error_statuses(operation)):
            documented = responses.get(str(status), {})
            if documented.get("content"):  # the view described this answer itself
                continue
            name = VALIDATION_ERROR if status == 400 else ERROR
            responses[str(status)] = {
                "content": {"application/json": {"schema": self._error_component(name).ref}},
                "description": documented.get("description") or DESCRIPTIONS[status],
            }
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> set[int]:
        statuses = {400}
        if any(not isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if operation.get("parameters"):
            statuses.add(404)
        if operation.get("requestBody"):
            statuses |= {413, 415}
        if self.view.get_throttles():
            statuses.add(429)
        if self.method in UNSAFE and getattr(self.view, "may_conflict", False):
            statuses.add(409)
        return statuses

    def _error_component(self, name: str) -> ResolvedComponent:
        schema = VALIDATION_ERROR_SCHEMA if name == VALIDATION_ERROR else ERROR_SCHEMA
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component
