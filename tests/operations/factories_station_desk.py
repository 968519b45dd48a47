"""Test data of the station operator's page: a person tied to one station."""

from __future__ import annotations

import factory

from stations.models import StationOperator
from tests.factories import StationFactory, UserFactory


class StationOperatorFactory(factory.django.DjangoModelFactory):
    """StationOperatorFactory(station=…) ties a new station operator (the role's group) to that station."""

    class Meta:
        model = StationOperator

    user = factory.SubFactory(UserFactory, roles=["station_operator"])
    station = factory.SubFactory(StationFactory)


def desk_world(*, now=None):
    """A station operator's station with today's and tomorrow's playlists (one real-audio bulletin in each
    default slot: 06:00 morning, 17:00 evening), and another station with its own playlist today."""
    import datetime as dt
    from types import SimpleNamespace

    from django.utils import timezone

    from broadcast.selectors.playlists import local_today
    from tests.broadcast.factories_reports import make_playlist
    from tests.factories import approved_bulletin

    today = local_today()
    station = StationFactory(name="Đài truyền thanh Phường Thử")
    other = StationFactory()
    news = approved_bulletin(title="Lịch tiêm chủng tuần này", seconds=1.0)
    urgent = approved_bulletin(title="Cảnh báo mưa lớn", priority="emergency", seconds=1.0)
    items = make_playlist(station, today, [news, urgent])
    later = make_playlist(station, today + dt.timedelta(days=1), [news])
    theirs = make_playlist(other, today, [approved_bulletin(title="Bản tin đài khác", seconds=1.0)])
    operator = StationOperatorFactory(station=station, user__username="nhanvien-thu")
    return SimpleNamespace(today=today, station=station, other=other, operator=operator.user, items=items,
                           morning=items[0], urgent=items[1], evening=items[2], tomorrow=later, theirs=theirs,
                           noon=dt.datetime.combine(today, dt.time(12, 0), timezone.get_default_timezone()))
