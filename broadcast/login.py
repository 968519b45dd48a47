"""The HTML logins (dashboard, admin) behind the same per-name, per-address throttle as the API login."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .services import access

REDIRECTS = {301, 302, 303}


def throttled_login(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps a login view: a POST past the limit gets a Vietnamese 429 page; a failed POST (the form shown
    again) counts against the name and the address; a successful one (a redirect) clears the name."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = request.POST.get("username", "")
        address = access.client_address(request)
        wait = access.login_wait(username, address)
        if wait is not None:
            response = render(request, "access/login_throttled.html", {"minutes": math.ceil(wait / 60)}, status=429)
            response["Retry-After"] = str(wait)
            return response
        response = view(request, *args, **kwargs)
        if response.status_code in REDIRECTS and request.user.is_authenticated:
            access.record_login_success(username)
        elif response.status_code == 200:
            access.record_login_failure(username, address)
        return response

    return wrapper
