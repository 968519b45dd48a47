"""Operators in the admin see what they see in the API: the rows of their district or units only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from . import roles
from .selectors import Scope, user_scope


class OperatorScopedMixin:
    """For a ModelAdmin whose rows an operator (district or commune-level units) may see only in part:
    `scoped` narrows its queryset to their scope. Everyone else keeps the admin's usual rows, so a staff
    account without a Loa role still works with its Django permissions alone."""

    def scoped(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        return queryset.filter(scope.q())

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        user: Any = request.user
        if not roles.has_role(user, *roles.OPERATOR_ROLES):
            return queryset
        scope = user_scope(user)
        return queryset if scope.everything else self.scoped(queryset, scope)
