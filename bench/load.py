"""The default load tool: a fixed number of keep-alive connections on asyncio streams, each
sending its next request as soon as the last one is answered, for a fixed time.

The harness runs it in a process of its own: `python -m bench.load SPEC.json` prints the result.
"""

import asyncio
import json
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from bench.workloads import Workload, new_book


@dataclass(frozen=True)
class LoadSpec:
    url: str
    workload: Workload
    connections: int
    duration: float
    warmup: float
    seed: int = 0
    key: str = ""  # the write API key the POSTs send


@dataclass
class Tally:
    """The answers that arrived inside the measured window; latencies in seconds."""

    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(share * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(values: list[float]) -> dict[str, float] | None:
    """p50 / p90 / p99 / max / mean in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    summary = {f"p{round(q * 100)}": percentile(ordered, q) for q in (0.5, 0.9, 0.99)}
    summary |= {"max": ordered[-1], "mean": sum(ordered) / len(ordered)}
    return {key: round(value * 1000, 3) for key, value in summary.items()}


class Request(NamedTuple):
    method: str
    path: str
    body: bytes | None  # a new book's JSON for a write, None for a read


def draw(workload: Workload, rng: random.Random, number: int) -> Request:
    """The workload's next request: a write (of the `number`th new book of this load, for its
    ISBN) for `write_share` of them, else a GET of one of its paths at random."""
    if rng.random() < workload.write_share:
        book = new_book(rng, workload.authors, workload.isbn_base + number)
        return Request("POST", workload.write_path, json.dumps(book).encode())
    return Request("GET", rng.choice(workload.paths), None)


async def cpu_between(start: float, stop: float) -> float:
    """The CPU time this process uses between two `time.perf_counter()` instants to come."""
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    cpu_from = time.process_time()
    await asyncio.sleep(max(0.0, stop - time.perf_counter()))
    return time.process_time() - cpu_from


class Connection:
    """One keep-alive HTTP/1.1 connection that speaks just enough of the protocol for the bench.

    httpx spent 1.3 ms of client CPU per request with one client per connection and 3.7 ms
    with a shared 32-connection pool, so it saturated a core before the baseline server did;
    this loop spends about 0.08 ms.
    """

    def __init__(self, host: str, port: int, key: str = "") -> None:
        self.host, self.port, self.key = host, port, key
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, *, gzip: bool = False
    ) -> int:
        """Send one request and read the whole answer (compressed, if gzip); return its status."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if gzip:
            head += "Accept-Encoding: gzip\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            if self.key:  # none where no key is needed (AUTH_MODE=open, the plain app)
                head += f"Authorization: Bearer {self.key}\r\n"
        writer.write(head.encode() + b"\r\n" + (body or b""))
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        headers = dict(line.lower().split(b":", 1) for line in lines[1:] if line)
        if headers.get(b"transfer-encoding", b"").strip() == b"chunked":
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        else:
            await reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").strip() == b"close":
            self.close()
        return int(lines[0].split()[1])

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


class Driver:
    """Runs one workload against one server."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.tally = Tally()
        self.books_written = 0
        self.answered = 0  # every answer, the warm-up's and late ones too
        self.cpu = 0.0

    async def run(self) -> dict[str, Any]:
        spec = self.spec
        address = urlsplit(spec.url)
        start = time.perf_counter()
        measure_from = start + spec.warmup
        stop_at = measure_from + spec.duration
        connections = (
            self.connection(
                Connection(address.hostname or "127.0.0.1", address.port or 80, spec.key),
                random.Random(spec.seed * 1000 + n),
                measure_from,
                stop_at,
            )
            for n in range(spec.connections)
        )
        # Answers still out when the window closes are awaited, not abandoned: the server
        # would go on working on them and slow down the next workload.
        await asyncio.gather(self.measure_cpu(measure_from, stop_at), *connections)
        return self.result(spec.duration, self.cpu)

    async def measure_cpu(self, start: float, stop: float) -> None:
        self.cpu = await cpu_between(start, stop)

    async def connection(
        self, connection: Connection, rng: random.Random, measure_from: float, stop_at: float
    ) -> None:
        """Send requests back to back until the window closes; count those answered inside it."""
        workload = self.spec.workload
        while (began := time.perf_counter()) < stop_at:
            request = draw(workload, rng, self.books_written + 1)
            write = request.body is not None
            self.books_written += write
            try:
                status = await connection.request(
                    request.method, request.path, request.body, gzip=workload.gzip and not write
                )
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError):
                connection.close()
                if measure_from <= time.perf_counter() <= stop_at:
                    self.tally.errors += 1
                await asyncio.sleep(0.01)  # a dead server must not turn this into a busy loop
                continue
            answered = time.perf_counter()
            self.answered += 1
            if not measure_from <= answered <= stop_at:
                continue
            (self.tally.writes if write else self.tally.reads).append(answered - began)
            self.tally.statuses[status] = self.tally.statuses.get(status, 0) + 1
        connection.close()

    def result(self, elapsed: float, cpu: float) -> dict[str, Any]:
        """Figures over the measured window of `elapsed` seconds."""
        tally = self.tally
        requests = len(tally.reads) + len(tally.writes)
        non_2xx = sum(n for status, n in tally.statuses.items() if not 200 <= status < 300)
        return {
            "tool": "asyncio",
            "requests": requests,
            "answered_all": self.answered,
            "elapsed_s": round(elapsed, 3),
            "rps": round(requests / elapsed, 1) if elapsed > 0 else 0.0,
            "non_2xx": non_2xx + tally.errors,
            "transport_errors": tally.errors,
            "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
            "latency_ms": latency_summary(tally.reads + tally.writes),
            "read_latency_ms": latency_summary(tally.reads),
            "write_latency_ms": latency_summary(tally.writes),
            "writes_per_s": round(len(tally.writes) / elapsed, 1) if elapsed > 0 else 0.0,
            "client_cpu_share": round(cpu / elapsed, 3) if elapsed > 0 else 0.0,
        }


def spec_to_json(spec: LoadSpec) -> str:
    return json.dumps(asdict(spec))


def run_load(spec: LoadSpec, spec_path: Path) -> dict[str, Any]:
    """Run the load in a process of its own, its spec written to `spec_path`; its result."""
    spec_path.write_text(spec_to_json(spec))
    command = [sys.executable, "-m", "bench.load", str(spec_path)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def spec_from_json(text: str) -> LoadSpec:
    data = json.loads(text)
    return LoadSpec(**{**data, "workload": Workload(**data["workload"])})


def main(argv: list[str]) -> int:
    spec = spec_from_json(Path(argv[0]).read_text())
    result = asyncio.run(Driver(spec).run())
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
