"""What every bulletin view shares: the permissions, the workflow error mapping, the bulletin lookup."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcast.models import Bulletin
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services
from stations import roles
from stations.auth import HasPerm, HasRole

from .serializers import BulletinSerializer

# Writes need the permission the role grants (stations/roles.py); the workflow service adds the rules
# about the object (only the author edits and submits; nobody approves their own bulletin).
Readers = HasRole.of(*selectors.READER_ROLES)
# A bulletin reached through selectors.bulletins_for (operators: only what airs in their district or units).
BulletinReaders = HasPerm.of("broadcast.view_bulletin")
Authors = HasPerm.of("broadcast.add_bulletin")
Editors = HasPerm.of("broadcast.change_bulletin")
Approvers = HasPerm.of("broadcast.approve_bulletin")
Archivers = HasPerm.of("broadcast.archive_bulletin")
LexiconEditors = HasRole.of(roles.EDITOR)


class WorkflowErrors:
    """Maps service WorkflowErrors to 400 (field-level) / 403 / 409 / 413 responses."""

    may_conflict = True  # OpenAPI: writes document 409 (broadcast/api/openapi.py)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.WorkflowError):
            if exc.status_code == 400 and exc.field:
                data: dict[str, Any] = {exc.field: [exc.message]}
            else:
                data = {"detail": exc.message, "code": exc.code}
            return Response(data, status=exc.status_code)
        return super().handle_exception(exc)  # type: ignore[misc]


class BulletinObjectMixin(WorkflowErrors):
    def get_bulletin(self) -> Bulletin:
        return get_object_or_404(selectors.bulletins_for(self.request.user), pk=self.kwargs["pk"])

    def detail(self, bulletin: Bulletin, status: int = 200) -> Response:
        bulletin = selectors.bulletins_for(self.request.user).get(pk=bulletin.pk)
        return Response(BulletinSerializer(bulletin, context={"request": self.request}).data, status=status)


class _Action(BulletinObjectMixin, APIView):
    input_serializer: type[serializers.Serializer] | None = None

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        bulletin = self.get_bulletin()
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            ser = self.input_serializer(data=request.data)
            ser.is_valid(raise_exception=True)
            data = ser.validated_data
        return self.detail(self.act(bulletin, request.user, data))
