"""The open-loop load: requests sent at a fixed arrival rate whatever the server does, each one's
latency measured from the time it was scheduled to go out.

A closed loop (`bench/load.py`) sends a connection's next request only when its last answer is
in, so a server that falls behind is sent less, and the time a request would have waited to be
sent is never counted. Here the schedule comes first: arrivals are a Poisson process (the gaps
between send times drawn from an exponential distribution of mean 1/rate, from a fixed seed),
and each request goes out at its time on an idle keep-alive connection, or on a new one when
every open connection is waiting for an answer. Only past `MAX_CONNECTIONS` does a request wait
for a connection, and then that wait is in its latency too.

The harness runs it in a process of its own: `python -m bench.open_loop SPEC.json` prints the
result, with the closed loop's keys and a few of its own.
"""

import asyncio
import json
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load import (
    Connection,
    LoadSpec,
    Request,
    Tally,
    cpu_between,
    draw,
    latency_summary,
    spec_from_json,
)

ARRIVALS = "poisson"
# Open connections at most: far more than a server that keeps up needs, and under the file
# descriptors a process may hold.
MAX_CONNECTIONS = 1000
# How long answers still out when the schedule ends are awaited; those later are unanswered.
DRAIN_S = 30.0


@dataclass(frozen=True)
class OpenSpec:
    load: LoadSpec  # its `connections` is not used: connections open as they are needed
    rate: float  # requests per second, scheduled
    max_connections: int = MAX_CONNECTIONS


@dataclass
class Timings:
    """Per measured request, in seconds: how late it went out, and its answer's time from then."""

    lags: list[float] = field(default_factory=list)
    from_send: list[float] = field(default_factory=list)


def schedule(rate: float, seed: int, start: float, stop: float) -> list[float]:
    """Send times from `start` (exclusive) to `stop` (exclusive), `rate` a second on average."""
    rng = random.Random(seed)
    times: list[float] = []
    at = start + rng.expovariate(rate)
    while at < stop:
        times.append(at)
        at += rng.expovariate(rate)
    return times


class OpenLoop:
    """Sends one workload at a fixed rate to one server."""

    def __init__(self, spec: OpenSpec) -> None:
        self.spec = spec
        address = urlsplit(spec.load.url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.idle: list[Connection] = []
        self.slots = asyncio.Semaphore(spec.max_connections)
        self.tally = Tally()
        self.timings = Timings()
        self.opened = 0
        self.answered = 0  # every answer, the warm-up's too
        self.scheduled = 0  # requests scheduled inside the measured window
        self.unanswered = 0  # of those, still unanswered when the drain ended

    async def run(self) -> dict[str, Any]:
        load = self.spec.load
        start = time.perf_counter()
        measure_from = start + load.warmup
        stop_at = measure_from + load.duration
        cpu = asyncio.create_task(cpu_between(measure_from, stop_at))
        # Requests are drawn from their own generator, so the schedule stays the same
        # whatever the workload draws.
        rng = random.Random(load.seed * 1000 + 1)
        written = 0
        pending: dict[asyncio.Task[None], bool] = {}
        for at in schedule(self.spec.rate, load.seed, start, stop_at):
            if (delay := at - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            request = draw(load.workload, rng, written + 1)
            written += request.body is not None
            measured = at >= measure_from
            self.scheduled += measured
            task = asyncio.create_task(self.send(request, at, measured))
            pending[task] = measured
            task.add_done_callback(pending.pop)
        client_cpu = await cpu
        if pending:
            _done, late = await asyncio.wait(list(pending), timeout=DRAIN_S)
            self.unanswered = sum(pending.get(task, False) for task in late)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for connection in self.idle:
            connection.close()
        return self.result(load.duration, client_cpu)

    def connection(self) -> Connection:
        """An idle connection, or a new one (it connects with its first request)."""
        if self.idle:
            return self.idle.pop()
        self.opened += 1
        return Connection(self.host, self.port, self.spec.load.key)

    async def send(self, request: Request, scheduled: float, measured: bool) -> None:
        """Send one request now, on a connection of its own; count it if it was measured."""
        async with self.slots:
            connection = self.connection()
            sent = time.perf_counter()
            try:
                gzip = self.spec.load.workload.gzip and request.body is None
                status = await connection.request(
                    request.method, request.path, request.body, gzip=gzip
                )
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError):
                connection.close()
                self.tally.errors += measured
                return
            answered = time.perf_counter()
            self.idle.append(connection)
        self.answered += 1
        if not measured:
            return
        (self.tally.reads if request.body is None else self.tally.writes).append(
            answered - scheduled
        )
        self.tally.statuses[status] = self.tally.statuses.get(status, 0) + 1
        self.timings.lags.append(sent - scheduled)
        self.timings.from_send.append(answered - sent)

    def result(self, elapsed: float, cpu: float) -> dict[str, Any]:
        """Figures over the requests scheduled inside the measured window of `elapsed` seconds."""
        tally = self.tally
        requests = len(tally.reads) + len(tally.writes)
        non_2xx = sum(n for status, n in tally.statuses.items() if not 200 <= status < 300)
        return {
            "tool": "asyncio open loop",
            "arrivals": ARRIVALS,
            "rate": self.spec.rate,
            "scheduled": self.scheduled,
            "sent_rps": round(self.scheduled / elapsed, 1),
            "requests": requests,
            "reads": len(tally.reads),
            "writes": len(tally.writes),
            "answered_all": self.answered,
            "elapsed_s": round(elapsed, 3),
            "rps": round(requests / elapsed, 1),
            "non_2xx": non_2xx + tally.errors + self.unanswered,
            "transport_errors": tally.errors,
            "unanswered": self.unanswered,
            "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
            # From each request's scheduled send time to its answer.
            "latency_ms": latency_summary(tally.reads + tally.writes),
            "read_latency_ms": latency_summary(tally.reads),
            "write_latency_ms": latency_summary(tally.writes),
            "writes_per_s": round(len(tally.writes) / elapsed, 1),
            # How late requests went out, and their answers' time from then: the latency
            # above less the wait for a connection and for this process's own event loop.
            "send_lag_ms": latency_summary(self.timings.lags),
            "latency_from_send_ms": latency_summary(self.timings.from_send),
            "connections_opened": self.opened,
            "client_cpu_share": round(cpu / elapsed, 3),
        }


def run_open_loop(spec: OpenSpec, spec_path: Path) -> dict[str, Any]:
    """Run the load in a process of its own, its spec written to `spec_path`; its result."""
    spec_path.write_text(json.dumps(asdict(spec)))
    command = [sys.executable, "-m", "bench.open_loop", str(spec_path)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def open_spec_from_json(text: str) -> OpenSpec:
    data = json.loads(text)
    return OpenSpec(**{**data, "load": spec_from_json(json.dumps(data["load"]))})


def main(argv: list[str]) -> int:
    spec = open_spec_from_json(Path(argv[0]).read_text())
    result = asyncio.run(OpenLoop(spec).run())
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
