"""The site's routes plus two pages guarded by broadcast.newsroom.access, for the 403 tests."""

from django.http import HttpResponse
from django.urls import path
from django.views import View

from broadcast.newsroom.access import RoleRequiredMixin, role_required
from broadcast.urls import handler400, handler403, handler404, handler500  # noqa: F401
from broadcast.urls import urlpatterns as site
from stations import roles


@role_required(roles.APPROVER)
def approvers_only(request):  # noqa: ANN001, ANN201
    return HttpResponse("ok")


class EditorsOnly(RoleRequiredMixin, View):
    roles = (roles.EDITOR,)

    def get(self, request):  # noqa: ANN001, ANN201
        return HttpResponse("ok")


urlpatterns = [
    path("newsroom/test-approvers/", approvers_only),
    path("newsroom/test-editors/", EditorsOnly.as_view()),
    *site,
]
