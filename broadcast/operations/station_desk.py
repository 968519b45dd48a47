"""Placeholder: the pages of this area are not built yet."""

urlpatterns: list = []
