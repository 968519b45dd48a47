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
    """Wraps a login view: a POST past the limit gets a Vietnamese 429 page; every other POST is counted
    before the view checks its password, and keeps that count when it fails (the form shown again); a
    successful one (a redirect) clears the name's count."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = request.POST.get("username", "")
        address = access.client_address(request)
        attempt = access.begin_login(username, address)
        if not attempt.allowed:
            wait = attempt.wait
            response = render(request, "access/login_throttled.html", {"minutes": math.ceil(wait / 60)}, status=429)
            response["Retry-After"] = str(wait)
            return response
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            attempt.abandoned()
            raise
        if response.status_code in REDIRECTS and request.user.is_authenticated:
            attempt.succeeded()
        elif response.status_code == 200:
            attempt.failed()
        else:  # neither outcome (e.g. a refused CSRF token): the attempt counts for nothing
            attempt.abandoned()
        return response

    return wrapper
