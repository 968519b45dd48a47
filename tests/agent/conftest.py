"""Fixtures of the agent's tests."""

from tests.agent.mqtt_broker import private_broker  # noqa: F401 - TEMPORARY, until tests/broker_fixtures.py
