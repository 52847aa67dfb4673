"""How long a create holds SQLite's one write connection, and where that time goes:
`python -m bench.experiments.write_hold` (SQLite only).

Creates go through the app in process (httpx's ASGI transport: no server, no network), sent by
one client and then by 16 at once, on a copy of the benchmark database, with an API key as the
load benchmark sends. The write engine's events time each create's hold of the connection, from
the pool's checkout to its checkin, in five stages:

- to the first statement: the request's work between the checkout and its first statement;
- the first statement: the read sent with `BEGIN IMMEDIATE`, a round trip to the connection's
  thread and the wait for the event loop to take its answer;
- the later statements: the inserts, which wait for the commit (see app/db/sqlite_driver.py);
- to the commit: the rest of the endpoint, until the session commits;
- the commit: the inserts, their triggers and `COMMIT`, a round trip, and the checkin.

The writer held nearly all the time says creates wait for it; where one client's hold and
sixteen clients' differ, the difference is the wait for the event loop. CPU time is the
process's, the client's included.
"""

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.main import create_app
from app.state import state_of
from bench.dataset import sqlite_url
from bench.driving import say
from bench.report import cell, machine, rounds_heading, table_head, write_file
from bench.run import experiment_parser, run_database
from bench.server import make_key
from bench.workloads import new_book, sample_ids

CLIENTS = (1, 16)
STAGES = (
    "to the first statement",
    "first statement",
    "later statements",
    "to the commit",
    "commit",
)


@dataclass
class Holds:
    """The write engine's events, in order, read back as each create's hold in stages."""

    events: list[tuple[str, float]] = field(default_factory=list)

    def watch(self, engine: AsyncEngine) -> None:
        for name in ("checkout", "checkin"):
            event.listen(engine.sync_engine.pool, name, self.marker(name))
        for name in ("before_cursor_execute", "after_cursor_execute", "commit"):
            event.listen(engine.sync_engine, name, self.marker(name))

    def marker(self, name: str) -> Any:
        def mark(*_args: Any, **_kwargs: Any) -> None:
            self.events.append((name, time.perf_counter()))

        return mark

    def stages(self) -> list[dict[str, float]]:
        """Each hold with a statement and a commit, as ms per stage, from the events so far."""
        found: list[dict[str, float]] = []
        hold: list[tuple[str, float]] = []
        for name, at in self.events:
            if name == "checkout":
                hold = []
            hold.append((name, at))
            if name == "checkin" and (staged := staged_hold(hold)) is not None:
                found.append(staged)
        return found


def staged_hold(hold: list[tuple[str, float]]) -> dict[str, float] | None:
    """One hold's stages in ms, or None for a hold that is not a create's (which sends a read
    and then its inserts: at least two statements, and one commit)."""
    sent = [at for name, at in hold if name == "before_cursor_execute"]
    back = [at for name, at in hold if name == "after_cursor_execute"]
    commits = [at for name, at in hold if name == "commit"]
    if hold[0][0] != "checkout" or len(sent) < 2 or len(commits) != 1:
        return None
    checkout, checkin, commit = hold[0][1], hold[-1][1], commits[0]
    first_sent, first_back, last_back = sent[0], back[0], back[-1]
    times = [first_sent - checkout, first_back - first_sent, last_back - first_back]
    times += [commit - last_back, checkin - commit]
    return {stage: seconds * 1000 for stage, seconds in zip(STAGES, times, strict=True)}


async def creates(client: AsyncClient, bodies: list[dict[str, Any]], clients: int) -> None:
    """Send the bodies as creates, `clients` at a time; each must be a 201."""
    waiting = list(reversed(bodies))

    async def send() -> None:
        while waiting:
            answer = await client.post("/books", json=waiting.pop())
            assert answer.status_code == 201, answer.text

    await asyncio.gather(*(send() for _ in range(clients)))


async def measure(args: argparse.Namespace, database: Path) -> dict[int, list[dict[str, float]]]:
    """Per client count, one figure set per round."""
    url = sqlite_url(database)
    key = make_key(url)
    authors = sample_ids(database, seed=1).authors
    rng = random.Random(1)
    app = create_app(Settings(database_url=url, rate_limit_per_minute=0, import_runner=False))
    holds = Holds()
    figures: dict[int, list[dict[str, float]]] = {clients: [] for clients in CLIENTS}
    number = 0
    async with app.router.lifespan_context(app):
        holds.watch(state_of(app).database.write_engine)
        transport = ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with AsyncClient(transport=transport, base_url="http://x", headers=headers) as client:
            for round_ in range(args.rounds):
                for clients in CLIENTS:
                    say(f"round {round_ + 1}: {args.creates:,} creates by {clients}")
                    bodies = [new_book(rng, authors, number + n, 2) for n in range(args.creates)]
                    number += args.creates
                    holds.events.clear()
                    cpu, wall = time.process_time(), time.perf_counter()
                    await creates(client, bodies, clients)
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    staged = holds.stages()
                    figures[clients].append(summary(staged, args.creates, cpu, wall))
    return figures


def summary(
    staged: list[dict[str, float]], count: int, cpu: float, wall: float
) -> dict[str, float]:
    """The round's rate, CPU per create, share of the time held, and mean hold by stage."""
    held = sum(sum(stages.values()) for stages in staged)
    return {
        "holds": len(staged),
        "creates_per_s": count / wall,
        "cpu_ms_per_create": cpu * 1000 / count,
        "held_share": held / (wall * 1000),
        "hold_ms": held / len(staged),
        **{stage: sum(hold[stage] for hold in staged) / len(staged) for stage in STAGES},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = experiment_parser("python -m bench.experiments.write_hold", __doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--creates", type=int, default=1000, help="creates per client count")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    database, _ = run_database(args.work_dir, args.scale)  # migrates: before the event loop
    figures = asyncio.run(measure(args, database))
    medians = {
        clients: {name: median(found[name] for found in rounds) for name in rounds[0]}
        for clients, rounds in figures.items()
    }
    setup = f"{args.scale:,} books, {args.creates:,} creates with 2 tags per client count"
    lines = [rounds_heading(started, setup, args.rounds), ""]
    lines += table_head("clients", "creates/s", "CPU ms", "writer held", "hold ms", *STAGES)
    for clients, found in medians.items():
        row = [cell(found["creates_per_s"]), cell(found["cpu_ms_per_create"], 2)]
        row += [f"{found['held_share']:.0%}", cell(found["hold_ms"], 2)]
        row += [cell(found[stage], 2) for stage in STAGES]
        lines.append(f"| {clients} | {' | '.join(row)} |")
    sys.stdout.write("\n".join(lines) + "\n")
    results = {
        "machine": machine(started),
        "settings": {"scale": args.scale, "rounds": args.rounds, "creates": args.creates},
        "rounds": {str(clients): rounds for clients, rounds in figures.items()},
        "medians": {str(clients): found for clients, found in medians.items()},
    }
    name = f"{started:%Y-%m-%dT%H%M}-write-hold-scale{args.scale}-sqlite.json"
    say(f"results written to {write_file(results, args.results_dir / name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
