"""Template tags of the newsroom layout: `{% newsroom_nav as nav %}` (links by role, counts)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def newsroom_nav(context: dict[str, Any]) -> Any:
    from broadcast.newsroom.home import Navigation, navigation

    request = context.get("request")
    return navigation(request) if request is not None else Navigation()
