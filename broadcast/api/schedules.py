"""Routes of this area; the root urls include it under /api/v1/."""

urlpatterns: list = []
