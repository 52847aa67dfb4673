"""Driving a server: each workload from a load process of its own."""

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from bench import wrk
from bench.load import LoadSpec, run_load
from bench.server import Server
from bench.workloads import Workload


def say(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def drive(
    args: argparse.Namespace,
    url: str,
    workload: Workload,
    duration: float | None = None,
    warmup: float | None = None,
) -> dict[str, Any]:
    """Run one workload against a server from a separate process."""
    spec = LoadSpec(
        url=url,
        workload=workload,
        connections=workload.connections or args.connections,
        duration=args.duration if duration is None else duration,
        warmup=args.warmup if warmup is None else warmup,
        key=args.key,
    )
    if args.tool == "wrk":
        return wrk.drive(spec, args.work_dir)
    # One file per server: --metrics-cost drives two at once.
    return run_load(spec, args.work_dir / f"load-spec-{urlsplit(url).port}.json")


def run_workloads(
    args: argparse.Namespace, server: Server, workloads: list[Workload], label: str
) -> list[dict[str, Any]]:
    rows = []
    for workload in workloads:
        say(f"{label}: {workload.name} ({args.duration:g} s)")
        load = drive(args, server.url, workload)
        rows.append(
            {
                "name": workload.name,
                "baseline": workload.baseline,
                "write_share": workload.write_share,
                "connections": workload.connections or args.connections,
                "load": load,
                "rss_mib_after": server.rss_mib(),
            }
        )
        say(f"  {load['rps']} req/s, non-2xx {load['non_2xx']}")
    return rows
