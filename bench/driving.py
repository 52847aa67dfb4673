"""Driving a server: each workload from a load process of its own, in a closed loop (a
fixed number of connections, bench/load.py or wrk) or an open one (a fixed rate,
bench/open_loop.py)."""

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from bench import wrk
from bench.load import LoadSpec, run_load
from bench.open_loop import OpenSpec, run_open_loop
from bench.server import Server
from bench.workloads import MIXED, Workload


def say(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def drive(
    args: argparse.Namespace,
    url: str,
    workload: Workload,
    duration: float | None = None,
    warmup: float | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Run one workload against a server from a separate process (with the run's write key
    unless `key` is given; "" sends none)."""
    spec = LoadSpec(
        url=url,
        workload=workload,
        connections=workload.connections or args.connections,
        duration=args.duration if duration is None else duration,
        warmup=args.warmup if warmup is None else warmup,
        key=args.key if key is None else key,
    )
    if args.tool == "wrk":
        return wrk.drive(spec, args.work_dir)
    # One file per server: --metrics-cost drives two at once.
    return run_load(spec, args.work_dir / f"load-spec-{urlsplit(url).port}.json")


def drive_open(
    args: argparse.Namespace, url: str, workload: Workload, rate: float
) -> dict[str, Any]:
    """Send one workload at `rate` requests a second, from a separate process; always with the
    asyncio client, as wrk has no open loop."""
    spec = LoadSpec(url, workload, args.connections, args.duration, args.warmup, key=args.key)
    return run_open_loop(
        OpenSpec(spec, rate), args.work_dir / f"open-spec-{urlsplit(url).port}.json"
    )


def open_rate(args: argparse.Namespace, rows: list[dict[str, Any]]) -> float:
    """--open-rate, or half the closed-loop mix's requests per second in this run."""
    if args.open_rate is not None:
        return float(args.open_rate)
    closed = next(row for row in rows if row["name"] == MIXED)
    return max(float(closed["load"]["rps"]) / 2, 1.0)


def rate_from(args: argparse.Namespace) -> str:
    return "--open-rate" if args.open_rate is not None else f"half of {MIXED}"


def run_workloads(
    args: argparse.Namespace, server: Server, workloads: list[Workload], label: str
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for workload in workloads:
        rate = open_rate(args, rows) if workload.open_loop else None
        at = "" if rate is None else f" at {rate:.1f} requests/s"
        say(f"{label}: {workload.name}{at} ({args.duration:g} s)")
        if rate is None:
            load = drive(args, server.url, workload)
        else:
            load = drive_open(args, server.url, workload, rate)
        rows.append(
            {
                "name": workload.name,
                "baseline": workload.baseline,
                "write_share": workload.write_share,
                "connections": load.get("connections_opened")
                or workload.connections
                or args.connections,
                "open_loop": workload.open_loop,
                "rate_from": rate_from(args) if workload.open_loop else None,
                "load": load,
                "rss_mib_after": server.rss_mib(),
            }
        )
        say(f"  {load['rps']} req/s, non-2xx {load['non_2xx']}")
    return rows
