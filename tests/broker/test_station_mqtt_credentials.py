"""The station's MQTT password is derived from its API token; only safe codes become user names."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from stations.agent.credentials import mqtt_password, mqtt_username_ok


def test_mqtt_password_is_the_hmac_of_the_fixed_context_keyed_by_the_token():
    token = "abc-TOKEN_123"
    expected = hmac.new(token.encode(), b"loa-mqtt-v1", hashlib.sha256).hexdigest()
    assert mqtt_password(token) == expected
    assert len(mqtt_password(token)) == 64


def test_mqtt_password_differs_per_token_and_is_never_the_token():
    assert mqtt_password("one") != mqtt_password("two")
    assert mqtt_password("one") != "one"


@pytest.mark.parametrize("code", ["00001", "T00001", "xa_phuong-1", "A" * 64])
def test_safe_station_codes_are_mqtt_user_names(code):
    assert mqtt_username_ok(code)


@pytest.mark.parametrize(
    "code",
    ["", "a+b", "a#", "#", "+", "a/b", "a b", "đài1", "A" * 65, "a\n", "%u", None, 12],
)
def test_codes_with_wildcards_separators_or_other_characters_are_not_user_names(code):
    assert not mqtt_username_ok(code)
