"""The agent's settings file (TOML) and its LOA_AGENT_* overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stations.agent.config import AgentConfig, ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "stations" / "agent" / "agent.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_gets_the_documented_defaults(tmp_path):
    config = load_config(write(tmp_path, 'server_url = "https://loa.example/"\ntoken = "t"\ndata_dir = "/var/lib/loa"\n'),
                         environ={})
    assert config.server_url == "https://loa.example"
    assert config.data_dir == Path("/var/lib/loa")
    assert (config.player, config.poll_s, config.heartbeat_s, config.grace_s, config.tick_s) == ("auto", 60, 300, 120, 0.5)
    assert (config.cache_days, config.cache_bytes, config.max_clock_offset_s) == (3, 2 * 1024 ** 3, 30)
    assert config.require_ntp is True and config.change_freeze_s == 300 and config.clock == "system"
    assert config.mqtt_url == ""  # the broker the heartbeat names, if any


def test_the_broker_may_be_set_in_the_file(tmp_path):
    path = write(tmp_path, 'server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\n'
                           'mqtt_url = "mqtts://loa.example:8883"\n')
    assert load_config(path, environ={}).mqtt_url == "mqtts://loa.example:8883"


def test_the_example_file_loads(tmp_path):
    config = load_config(EXAMPLE, environ={"LOA_AGENT_TOKEN": "t"})
    assert isinstance(config, AgentConfig)


def test_environment_variables_override_the_file_with_lists_as_json(tmp_path):
    path = write(tmp_path, 'server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\ngrace_s = 60\n')
    config = load_config(path, environ={"LOA_AGENT_GRACE_S": "5", "LOA_AGENT_REQUIRE_NTP": "false",
                                        "LOA_AGENT_PLAYER": '["sleep", "{duration_s}"]',
                                        "LOA_AGENT_AMP_ON": '["amp", "on"]'})
    assert config.grace_s == 5.0 and config.require_ntp is False
    assert config.player == ["sleep", "{duration_s}"] and config.amp_on == ["amp", "on"]


def test_the_token_may_come_from_a_file(tmp_path):
    (tmp_path / "token").write_text("secret\n", encoding="utf-8")
    path = write(tmp_path, f'server_url = "https://a"\ntoken_file = "{tmp_path / "token"}"\ndata_dir = "/d"\n')
    assert load_config(path, environ={}).token == "secret"


def test_a_simulated_clock_reads_its_start_and_speed(tmp_path):
    path = write(tmp_path, 'server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\nclock = "simulated"\n'
                           'sim_start = "2026-12-01T05:59:50+07:00"\nsim_speed = 10\n')
    config = load_config(path, environ={})
    assert config.sim_start == dt.datetime(2026, 12, 1, 5, 59, 50, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert config.sim_speed == 10.0


@pytest.mark.parametrize(("text", "message"), [
    ('token = "t"\ndata_dir = "/d"\n', "server_url"),
    ('server_url = "https://a"\ndata_dir = "/d"\n', "token"),
    ('server_url = "https://a"\ntoken = "t"\n', "data_dir"),
    ('server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\nplayer = "vlc"\n', "player"),
    ('server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\ngrace_s = "soon"\n', "grace_s"),
    ('server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\nclock = "simulated"\n', "sim_start"),
    ('server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\nsim_start = "2026-12-01T06:00:00"\n', "sim_start"),
    ('server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\ncolour = "red"\n', "colour"),
    ('server_url = "https://a\n', "TOML"),
    ('server_url = "https://a"\ntoken = "t"\ndata_dir = "/d"\nmqtt_url = "http://broker:1883"\n', "mqtt_url"),
])
def test_a_bad_file_is_refused_naming_the_key_in_vietnamese(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_a_missing_file_is_said_plainly(tmp_path):
    with pytest.raises(ConfigError, match="Không tìm thấy tệp cấu hình"):
        load_config(tmp_path / "nope.toml", environ={})
