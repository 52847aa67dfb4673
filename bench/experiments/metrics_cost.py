"""What the metrics cost under load (`--metrics-cost`): two Folio servers on the same database,
one with metrics and one with `METRICS_ENABLED=false`, each driven by a load process of its own
at the same time.

The machine's speed drifts from second to second by more than the cost being measured (other
work on a shared machine), so the two sides are never compared across time: both take load in
the same window, and whatever else the machine does lands on both at once. Each round prices the
metrics twice, by throughput (requests per second) and by the server's CPU time per answered
request; the cost is the median of the rounds' own costs.

Under load on a shared machine the rounds still scatter by more than a few per cent, so
`in_process` also prices the metrics without a network or a scheduler between the sides: both
apps in one process, driven in turn, their CPU time per request compared block by block.
"""

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from statistics import median
from typing import Any

import httpx

from app.config import Settings
from app.main import create_app
from bench.workloads import Workload, for_run

# ISBNs of the books these runs write, clear of the workloads' and the soak's.
ISBN_BASE = 4 * 10**8
SIDES = ("on", "off")

# {side: workload} -> {side: the load's result, with `server_cpu_ms` per answer where it was
# read}, both sides driven at the same time
DriveBoth = Callable[[dict[str, Workload]], dict[str, dict[str, Any]]]


def measure(workload: Workload, rounds: int, drive_both: DriveBoth) -> dict[str, Any]:
    """Run `workload` on both sides at once for `rounds` rounds and summarise the cost."""
    results: list[dict[str, Any]] = []
    for number in range(rounds):
        # The sides take turns at starting first, in case going first is itself an advantage.
        fresh = {
            side: for_run(workload, ISBN_BASE, number * len(SIDES) + n + 1)
            for n, side in enumerate(SIDES if number % 2 == 0 else SIDES[::-1])
        }
        loads = drive_both(fresh)
        results.append(
            {
                side: {
                    "rps": loads[side]["rps"],
                    "server_cpu_ms": loads[side].get("server_cpu_ms"),
                    "non_2xx": loads[side]["non_2xx"],
                }
                for side in SIDES
            }
        )
    return summary(workload.name, results)


def cost(on_rps: float, off_rps: float) -> float | None:
    """The share of throughput that metrics take: 0.03 when they serve 3% fewer requests."""
    return round(1 - on_rps / off_rps, 4) if off_rps else None


def cpu_cost(on_ms: float | None, off_ms: float | None) -> float | None:
    """How much more CPU a request takes with metrics: 0.03 for 3% more."""
    return round(on_ms / off_ms - 1, 4) if on_ms and off_ms else None


def middle(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(median(known), 4) if known else None


def summary(name: str, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each round's cost, their median, and the cost of the summed requests of every round."""
    costs = [cost(r["on"]["rps"], r["off"]["rps"]) for r in rounds]
    cpu_costs = [cpu_cost(r["on"]["server_cpu_ms"], r["off"]["server_cpu_ms"]) for r in rounds]
    on_total = sum(r["on"]["rps"] for r in rounds)
    off_total = sum(r["off"]["rps"] for r in rounds)
    return {
        "workload": name,
        "rounds": [
            {**r, "cost": c, "cpu_cost": u}
            for r, c, u in zip(rounds, costs, cpu_costs, strict=True)
        ],
        "median_cost": middle(costs),
        "pooled_cost": cost(on_total, off_total),
        "median_cpu_cost": middle(cpu_costs),
        "non_2xx": sum(r[side]["non_2xx"] for r in rounds for side in SIDES),
    }


def describe(result: dict[str, Any]) -> str:
    """One line for the report: the median cost, its spread and the pooled figure."""
    costs = [r["cost"] for r in result["rounds"] if r["cost"] is not None]
    if not costs:
        return f"- {result['workload']}: metrics cost unknown (no requests answered)."
    priced = (
        "control (metrics off on both sides), cost" if result.get("control") else "metrics cost"
    )
    line = (
        f"- {result['workload']}: {priced} {result['median_cost']:+.1%} of throughput, the"
        f" median of {len(costs)} paired rounds (from {min(costs):+.1%} to {max(costs):+.1%});"
        f" pooled {result['pooled_cost']:+.1%}"
    )
    cpu = [r["cpu_cost"] for r in result["rounds"] if r["cpu_cost"] is not None]
    if cpu:
        line += (
            f"; server CPU per request {result['median_cpu_cost']:+.1%}"
            f" (from {min(cpu):+.1%} to {max(cpu):+.1%})"
        )
    return line + f"; non-2xx {result['non_2xx']}."


async def in_process(
    database_url: str, paths: list[str], blocks: int = 60, per_block: int = 200
) -> dict[str, Any]:
    """Folio with and without metrics in this process, on one database, each sent
    `per_block` GETs of `paths` in turn (httpx's ASGI transport, no network), `blocks` times;
    each block's CPU time per request (`time.process_time`, the database threads included)."""
    per_request: dict[str, list[float]] = {side: [] for side in SIDES}
    settings = Settings(database_url=database_url, rate_limit_per_minute=0)
    async with AsyncExitStack() as stack:
        clients = {}
        for side in SIDES:
            app = create_app(settings.model_copy(update={"metrics_enabled": side == "on"}))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://folio")
            clients[side] = await stack.enter_async_context(client)
        for number in range(-1, blocks):  # block -1 warms both up and is not counted
            for side in SIDES if number % 2 == 0 else SIDES[::-1]:
                started = time.process_time()
                for n in range(per_block):
                    answer = await clients[side].get(paths[n % len(paths)])
                    answer.raise_for_status()
                if number >= 0:
                    per_request[side].append((time.process_time() - started) / per_block)
    costs = [on / off - 1 for on, off in zip(per_request["on"], per_request["off"], strict=True)]
    return {
        "blocks": blocks,
        "per_block": per_block,
        "cpu_ms": {side: round(median(values) * 1000, 4) for side, values in per_request.items()},
        "median_cost": round(median(costs), 4),
        "costs": [round(cost, 4) for cost in costs],
    }


def describe_in_process(name: str, result: dict[str, Any]) -> str:
    costs = result["costs"]
    return (
        f"- {name}, in process: metrics cost {result['median_cost']:+.1%} of CPU per request,"
        f" the median of {result['blocks']} paired blocks of {result['per_block']} requests"
        f" (from {min(costs):+.1%} to {max(costs):+.1%}; {result['cpu_ms']['on']} ms with,"
        f" {result['cpu_ms']['off']} ms without)."
    )
