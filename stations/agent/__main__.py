"""`python -m stations.agent --config /etc/loa-agent.toml`: runs the station agent until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import sys

from . import VERSION
from .config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stations.agent", description="Loa station agent.")
    parser.add_argument("--config", help="the settings file (TOML); LOA_AGENT_<KEY> variables override it")
    parser.add_argument("--check", action="store_true", help="read the settings, print the player, and exit")
    parser.add_argument("--version", action="version", version=VERSION)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"Cấu hình sai: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=getattr(logging, config.log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .agent import Agent, install_signal_handlers
    from .player import choose_player

    if args.check:
        command = choose_player(config.null_audio) if config.player == "auto" else config.player
        print(" ".join(command))
        return 0
    agent = Agent(config)
    install_signal_handlers(agent)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
