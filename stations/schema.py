"""OpenAPI description of the station Bearer authentication (loaded by StationsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stations.auth.StationTokenAuthentication"
    name = "stationBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Khóa truy cập của đài (Authorization: Bearer …)"}
