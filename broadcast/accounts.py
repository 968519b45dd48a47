"""Sign-in and sign-out of every page of Loa (newsroom, operations, dashboard): Django's views behind the
login throttle, with the Vietnamese login page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from broadcast.login import throttled_login


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


urlpatterns = [
    path("accounts/login/", throttled_login(LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/accounts/login/"), name="logout"),
]
