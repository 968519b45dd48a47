"""Staff API login (token obtain, throttled) and logout (token revoke)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stations.auth import is_staff_user

from ..models import StaffToken
from ..services import access as services
from ..throttling import LoginThrottled

MSG_BAD_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False,
                                     error_messages={"required": "Cần tên đăng nhập.", "blank": "Cần tên đăng nhập."})
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"},
                                     error_messages={"required": "Cần mật khẩu.", "blank": "Cần mật khẩu."})


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff_user(request.user)


class StaffTokenView(APIView):
    """POST {username, password} → {token, expires_at}: the token is shown only here; send it as
    `Authorization: Token <token>`. DELETE revokes the token the request carries (`?all=true`: every
    token of the user)."""

    def get_authenticators(self) -> list[Any]:
        # A login ignores any (perhaps expired) credentials the client still sends.
        request = getattr(self, "request", None)
        return [] if request is not None and request.method == "POST" else super().get_authenticators()

    def get_permissions(self) -> list[BasePermission]:
        return [] if self.request.method == "POST" else [IsStaff()]

    @extend_schema(
        request=LoginSerializer,
        responses={200: inline_serializer("StaffToken", {"token": serializers.CharField(),
                                                          "expires_at": serializers.DateTimeField(),
                                                          "username": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username, password = data.validated_data["username"], data.validated_data["password"]
        address = services.client_address(request)
        attempt = services.begin_login(username, address)
        if not attempt.allowed:
            raise LoginThrottled(wait=attempt.wait)
        try:
            user = authenticate(request._request, username=username, password=password)
        except BaseException:
            attempt.abandoned()
            raise
        if user is None:
            attempt.failed()
            raise exceptions.ValidationError({"non_field_errors": [MSG_BAD_CREDENTIALS]})
        attempt.succeeded()
        issued = services.issue_staff_token(user)
        return Response({"token": issued.raw, "expires_at": issued.token.expires_at, "username": user.get_username()})

    @extend_schema(
        request=None, responses={204: None},
        parameters=[OpenApiParameter("all", OpenApiTypes.BOOL, description="Thu hồi mọi khóa API của tôi")],
    )
    def delete(self, request: Request) -> Response:
        if request.query_params.get("all", "").lower() in {"1", "true", "yes"}:
            services.revoke_staff_tokens(request.user)
        elif isinstance(request.auth, StaffToken):
            services.revoke_staff_token(request.auth)
        else:
            raise exceptions.ValidationError(
                {"all": ["Yêu cầu không dùng khóa API; thêm ?all=true để thu hồi mọi khóa của bạn."]}
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token/", StaffTokenView.as_view(), name="staff-token"),
]
