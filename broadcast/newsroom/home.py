"""Newsroom pages: the site root and each role's start page, the shared navigation, notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from broadcast.selectors import notifications as notification_selectors
from broadcast.services import notifications as notification_services
from stations import roles
from stations.auth import is_staff_user

from .access import check_roles

# The other areas' pages, by path (their modules are the newsroom's own; a path keeps this one free of them).
BULLETINS = "/newsroom/bulletins/"
NEW_BULLETIN = "/newsroom/bulletins/new/"
REVIEW_QUEUE = "/newsroom/review/"
DASHBOARD = "/dashboard/"
SCHEDULES = "/operations/schedules/"
WEEK = "/operations/week/"
EMERGENCY = "/operations/emergency/"
STATIONS = "/operations/stations/"
MY_STATION = "/my-station/"
NOTIFICATIONS = "/newsroom/notifications/"
ADMIN = "/admin/"

# Someone with several roles starts on the first of these they hold.
START_PAGES = (
    (roles.EDITOR, BULLETINS),
    (roles.APPROVER, REVIEW_QUEUE),
    (roles.SUPERVISOR, DASHBOARD),
    (roles.DISTRICT_OPERATOR, DASHBOARD),
    (roles.COMMUNE_OPERATOR, DASHBOARD),
    (roles.STATION_OPERATOR, MY_STATION),
)
NOTIFICATIONS_PER_PAGE = 30


def start_page(user: Any) -> str | None:
    """Where a signed-in staff user starts, or None for someone who holds no role yet (a superuser without
    a role starts in the admin)."""
    held = roles.user_roles(user)
    for role, page in START_PAGES:
        if role in held:
            return page
    if getattr(user, "is_superuser", False):
        return ADMIN
    return None


# ---------------------------------------------------------------- navigation (every newsroom page)


@dataclass
class NavItem:
    label: str
    href: str
    count: int | None = None
    current: bool = False
    testid: str = ""


@dataclass
class Navigation:
    items: list[NavItem] = field(default_factory=list)
    unread: int = 0
    role_labels: str = ""


def navigation(request: HttpRequest) -> Navigation:
    """The links a person's roles open, with the approval queue's size and the unread notifications:
    the roles (cached on the user), and one count each."""
    user = getattr(request, "user", None)
    if user is None or not is_staff_user(user):
        return Navigation()
    held = roles.user_roles(user)
    items: list[NavItem] = []
    if roles.EDITOR in held:
        items += [NavItem("Bản tin", BULLETINS, testid="nav-bulletins"),
                  NavItem("Soạn mới", NEW_BULLETIN, testid="nav-new")]
    if roles.APPROVER in held:
        items.append(NavItem("Hàng chờ duyệt", REVIEW_QUEUE, testid="nav-review",
                             count=notification_selectors.waiting_for_approval_count(user)))
    watchers = held & {roles.SUPERVISOR, *roles.OPERATOR_ROLES}
    if roles.SUPERVISOR in held:
        items += [NavItem("Lịch phát", SCHEDULES, testid="nav-schedules"),
                  NavItem("Phát khẩn cấp", EMERGENCY, testid="nav-emergency")]
    if watchers:
        items += [NavItem("Tuần", WEEK, testid="nav-week"),
                  NavItem("Đài", STATIONS, testid="nav-stations"),
                  NavItem("Giám sát", DASHBOARD, testid="nav-dashboard")]
    if roles.STATION_OPERATOR in held:
        items.append(NavItem("Đài của tôi", MY_STATION, testid="nav-my-station"))
    unread = notification_selectors.unread_count(user)
    items.append(NavItem("Thông báo", NOTIFICATIONS, count=unread, testid="nav-notifications"))
    # The most specific link holding the current address is the current page ("Soạn mới" over "Bản tin").
    here = request.path
    matching = [item for item in items if here.startswith(item.href)]
    if matching:
        max(matching, key=lambda item: len(item.href)).current = True
    labels = [roles.ROLE_LABELS[role] for role in roles.ALL_ROLES if role in held]
    return Navigation(items=items, unread=unread, role_labels=", ".join(labels))


# ---------------------------------------------------------------- pages


def _administrators() -> list[Any]:
    """Who can give a person a role: the active superusers (names and addresses shown)."""
    return list(get_user_model().objects.filter(is_superuser=True, is_active=True)
                .only("username", "first_name", "last_name", "email").order_by("username")[:5])


def _start(request: HttpRequest) -> HttpResponse:
    check_roles(request.user, ())
    page = start_page(request.user)
    if page is not None:
        return redirect(page)
    return render(request, "newsroom/home/no_role.html", {"administrators": _administrators()})


def root(request: HttpRequest) -> HttpResponse:
    """The site root: the login page for a signed-out person, else their start page."""
    if not request.user.is_authenticated:
        return redirect("/accounts/login/?next=/")
    return _start(request)


@login_required
def newsroom_home(request: HttpRequest) -> HttpResponse:
    return _start(request)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; those shown are marked read (the page still shows which
    were new)."""
    check_roles(request.user, ())
    paginator = Paginator(notification_selectors.notifications_of(request.user), NOTIFICATIONS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [{"notification": n, "new": n.read_at is None, "href": notification_services.page_path(n)}
            for n in page.object_list]
    notification_services.mark_read(request.user, [row["notification"].pk for row in rows if row["new"]])
    return render(request, "newsroom/home/notifications.html", {"page": page, "rows": rows})


urlpatterns: list[URLPattern] = [
    path("", root, name="newsroom-root"),
    path("newsroom/", newsroom_home, name="newsroom-home"),
    path("newsroom/notifications/", notification_list, name="newsroom-notifications"),
]
