"""Bulletins: list, create, read, edit, delete a draft, the workflow actions and the history (thin views)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcast.models import Bulletin
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services

from .base import Approvers, Archivers, Authors, BulletinObjectMixin, BulletinReaders, Editors, _Action
from .serializers import (
    ApproveSerializer,
    BulletinPatchSerializer,
    BulletinSerializer,
    BulletinWriteSerializer,
    CommentSerializer,
    RejectSerializer,
    TransitionSerializer,
)


class BulletinFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Bulletin.Status.choices)
    category = django_filters.ChoiceFilter(choices=Bulletin.Category.choices)
    priority = django_filters.ChoiceFilter(choices=Bulletin.Priority.choices)

    class Meta:
        model = Bulletin
        fields = ["status", "category", "priority"]


class BulletinListCreate(BulletinObjectMixin, generics.ListAPIView):
    serializer_class = BulletinSerializer
    filterset_class = BulletinFilter
    search_fields = ["title", "current_revision__title", "current_revision__body"]
    ordering_fields = ["created_at", "updated_at", "priority", "status"]

    def get_permissions(self) -> list[BasePermission]:
        return [Authors()] if self.request.method == "POST" else [BulletinReaders()]

    def get_queryset(self):
        return selectors.bulletins_for(self.request.user)

    @extend_schema(request=BulletinWriteSerializer, responses={201: BulletinSerializer})
    def post(self, request: Request) -> Response:
        data = BulletinWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bulletin = services.create_bulletin(request.user, **data.validated_data)
        return self.detail(bulletin, status=201)


class BulletinDetail(BulletinObjectMixin, APIView):
    def get_permissions(self) -> list[BasePermission]:
        return [Editors()] if self.request.method in ("PATCH", "DELETE") else [BulletinReaders()]

    @extend_schema(responses=BulletinSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return self.detail(self.get_bulletin())

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """The author deletes a draft never submitted (403 for others, 409 once submitted)."""
        services.delete_draft(self.get_bulletin(), request.user)
        return Response(status=204)

    @extend_schema(request=BulletinPatchSerializer, responses=BulletinSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        bulletin = self.get_bulletin()
        data = BulletinPatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        bulletin = services.edit_bulletin(bulletin, request.user, **data.validated_data)
        return self.detail(bulletin)


@extend_schema(request=None, responses=BulletinSerializer)
class BulletinSubmit(_Action):
    """draft → in_review; rendering of this revision's audio starts."""

    permission_classes = [Editors]

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.submit(bulletin, user)


@extend_schema(request=ApproveSerializer, responses=BulletinSerializer)
class BulletinApprove(_Action):
    """in_review → approved; binds the ready audio (409 `audio_not_ready` when it is not ready). With
    `sha256` (the audio listened to), 409 `audio_changed` when the revision's audio is no longer that file:
    listen again, then approve."""

    permission_classes = [Approvers]
    input_serializer = ApproveSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.approve(bulletin, user, data.get("comment", ""), heard_sha256=data.get("sha256"))


@extend_schema(request=RejectSerializer, responses=BulletinSerializer)
class BulletinReject(_Action):
    permission_classes = [Approvers]
    input_serializer = RejectSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.reject(bulletin, user, data["comment"])


@extend_schema(request=CommentSerializer, responses=BulletinSerializer)
class BulletinWithdraw(_Action):
    """in_review → draft: the author takes the bulletin back before an approver decides."""

    permission_classes = [Editors]
    input_serializer = CommentSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.withdraw(bulletin, user, data.get("comment", ""))


@extend_schema(request=CommentSerializer, responses=BulletinSerializer)
class BulletinArchive(_Action):
    """→ archived: stops airing."""

    permission_classes = [Archivers]
    input_serializer = CommentSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.archive(bulletin, user, data.get("comment", ""))


class BulletinHistory(BulletinObjectMixin, generics.ListAPIView):
    """The full audit trail as a plain array, as API.md fixes it (a bulletin has few transitions)."""

    permission_classes = [BulletinReaders]
    serializer_class = TransitionSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return selectors.bulletin_history(self.get_bulletin())
