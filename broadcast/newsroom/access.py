"""Who may open a newsroom page: the same roles as the API (stations.roles), checked once per view.

A signed-out person is sent to the login page (and back afterwards); a signed-in one without the role
gets PermissionDenied, which handler403 (broadcast.http.permission_denied) turns into the Vietnamese page
with a link home. Views raise PermissionDenied with their own Vietnamese message for finer rules (an
approver's own bulletin): the page shows that message.

    from broadcast.newsroom.access import role_required

    @role_required(roles.EDITOR)
    def bulletin_list(request): ...

    class ReviewPage(RoleRequiredMixin, View):
        roles = (roles.APPROVER,)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from stations import roles as role_names
from stations.auth import is_staff_user

__all__ = ["RoleRequiredMixin", "check_roles", "denied_message", "role_required"]


def denied_message(allowed: tuple[str, ...]) -> str:
    """'Trang này chỉ dành cho Biên tập viên, Người duyệt.' — names the roles that may open the page."""
    labels = [role_names.ROLE_LABELS.get(role, role) for role in allowed]
    if not labels:
        return "Bạn không có quyền xem trang này."
    return f"Trang này chỉ dành cho {', '.join(labels)}."


def check_roles(user: Any, allowed: tuple[str, ...], message: str | None = None) -> None:
    """PermissionDenied unless `user` is a signed-in staff user holding one of `allowed` (superusers
    always pass, as in the API). An empty `allowed` means any staff user."""
    if not is_staff_user(user):
        raise PermissionDenied(message or "Bạn không có quyền xem trang này.")
    if allowed and not role_names.has_role(user, *allowed):
        raise PermissionDenied(message or denied_message(allowed))


def role_required(*allowed: str, message: str | None = None) -> Callable[[Callable[..., HttpResponse]],
                                                                          Callable[..., HttpResponse]]:
    """View decorator: login_required (redirect to /accounts/login/?next=…), then one of `allowed`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            check_roles(request.user, allowed, message)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator


class RoleRequiredMixin(LoginRequiredMixin):
    """Class-based views: set `roles` (and optionally `denied`, the Vietnamese message)."""

    roles: tuple[str, ...] = ()
    denied: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        check_roles(request.user, tuple(self.roles), self.denied)
        return super().dispatch(request, *args, **kwargs)
