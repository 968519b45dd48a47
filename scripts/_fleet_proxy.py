"""A bad network between some fleet agents and the server: one loopback port per agent, forwarding to the
server, with that agent's faults (used by scripts/bench_fleet.py; asyncio in a thread of its own).

Faults of a route, changeable while it runs:
- offline: new connections are closed at once and open ones are cut (a link down for hours);
- bytes_per_s: answers trickle back at this rate (a throttled 2G link);
- cut_share: this share of connections is cut after a random number of answer bytes (a flaky link,
  mostly felt as a download broken in the middle);
- hold_reports_s: a POST station/reports/ waits this long before it goes on (the fleet kills the agent
  meanwhile: killed mid-upload);
- drop_report_answers: this many answers to POST station/reports/ are swallowed after the server has
  processed the batch, so the agent sends the same batch again (duplicate uploads).
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field

REPORTS_REQUEST = b"POST /api/v1/station/reports/"


@dataclass
class Route:
    name: str
    offline: bool = False
    bytes_per_s: float = 0.0
    cut_share: float = 0.0
    drop_report_answers: int = 0
    hold_reports_s: float = 0.0  # a report batch waits this long in the proxy (a kill lands mid-upload)
    port: int = 0
    # counters
    connections: int = 0
    refused: int = 0
    cut: int = 0
    dropped_report_answers: int = 0
    reports_seen: int = 0
    live: set = field(default_factory=set)


class FleetProxy:
    def __init__(self, upstream_port: int, seed: int = 7) -> None:
        self.upstream_port = upstream_port
        self.routes: list[Route] = []
        self.rng = random.Random(seed)
        self.loop = asyncio.new_event_loop()
        self._servers: list[asyncio.base_events.Server] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="fleet-proxy", daemon=True)
        self._thread.start()

    def add(self, route: Route) -> int:
        """Listens for this route on a free loopback port; returns the port."""
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(lambda r, w: self._serve(route, r, w), "127.0.0.1", 0, backlog=64),
            self.loop).result(10)
        self._servers.append(server)
        route.port = server.sockets[0].getsockname()[1]
        self.routes.append(route)
        return route.port

    def set_offline(self, route: Route, offline: bool) -> None:
        def apply() -> None:
            route.offline = offline
            if offline:
                for writer in list(route.live):
                    writer.transport.abort()
        self.loop.call_soon_threadsafe(apply)

    def close(self) -> None:
        if not self.loop.is_running():
            return

        async def stop() -> None:
            for server in self._servers:
                server.close()
            for route in self.routes:
                for writer in list(route.live):
                    writer.transport.abort()
            # Connections still being served end here, not as tasks destroyed with the loop.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _serve(self, route: Route, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        route.connections += 1
        if route.offline:
            route.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        route.live.add(writer)
        state = {"reports": False, "route": route}
        cut_after = self.rng.randint(2_000, 400_000) if self.rng.random() < route.cut_share else None
        try:
            await asyncio.gather(self._upstream(reader, up_writer, state),
                                 self._downstream(route, up_reader, writer, state, cut_after))
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            route.live.discard(writer)
            for w in (writer, up_writer):
                if not w.is_closing():
                    w.transport.abort()

    async def _upstream(self, reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter, state: dict) -> None:
        first = True
        while True:
            data = await reader.read(65536)
            if not data:
                if up_writer.can_write_eof():
                    up_writer.write_eof()
                return
            if first:
                state["reports"] = data.startswith(REPORTS_REQUEST)
                first = False
                if state["reports"]:
                    state["route"].reports_seen += 1
                    if state["route"].hold_reports_s:
                        await asyncio.sleep(state["route"].hold_reports_s)
            up_writer.write(data)
            await up_writer.drain()

    async def _downstream(self, route: Route, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          state: dict, cut_after: int | None) -> None:
        sent = 0
        swallow = False
        while True:
            data = await up_reader.read(16384 if not route.bytes_per_s else 4096)
            if not data:
                if swallow:  # the server has answered the batch; the agent never hears of it
                    route.dropped_report_answers += 1
                    writer.transport.abort()
                    return
                writer.close()
                return
            if sent == 0 and state["reports"] and route.drop_report_answers > 0:
                route.drop_report_answers -= 1
                swallow = True
            if swallow:
                continue
            if cut_after is not None and sent + len(data) >= cut_after:
                route.cut += 1
                writer.transport.abort()
                return
            writer.write(data)
            await writer.drain()
            sent += len(data)
            if route.bytes_per_s:
                await asyncio.sleep(len(data) / route.bytes_per_s)
