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
