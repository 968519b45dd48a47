"""OpenAPI description of the staff token authentication (loaded by BroadcastConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "broadcast.authentication.StaffTokenAuthentication"
    name = "staffToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Khóa API của cán bộ, lấy từ POST /api/v1/auth/token/: «Token <khóa>»"}
