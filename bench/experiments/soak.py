"""Memory over a long run (`--soak N`): the server's resident memory after the first tenth of
N requests of the mixed load, and after all of them. A server that keeps something per
request (a cache without a bound, a registry that is never emptied) grows between the two.
"""

from collections.abc import Callable
from typing import Any

from bench.server import Server
from bench.workloads import Workload

# One load run at a time, between two memory readings; long enough that starting the load
# process costs little, short enough to stop close to each mark.
SHORTEST_RUN_S = 3.0
LONGEST_RUN_S = 60.0
FIRST_GUESS_RPS = 100.0

Drive = Callable[[Workload, float], dict[str, Any]]


def run_length(requests_left: int, rps: float) -> float:
    """Seconds of load that should answer about `requests_left` more requests."""
    return min(max(requests_left / max(rps, 1.0), SHORTEST_RUN_S), LONGEST_RUN_S)


def soak(server: Server, workload: Workload, total: int, drive: Drive) -> dict[str, Any]:
    """Send at least `total` requests; read the memory at a tenth of them and at the end."""
    first_mark = max(total // 10, 1)
    answered = 0
    non_2xx = 0
    rps = FIRST_GUESS_RPS
    readings: list[dict[str, Any]] = []
    for mark in (first_mark, total):
        while answered < mark:
            load = drive(workload, run_length(mark - answered, rps))
            answered += load["requests"]
            non_2xx += load["non_2xx"] + load["transport_errors"]
            rps = load["rps"] or rps
        readings.append({"requests": answered, "rss_mib": server.rss_mib()})
    first, last = readings
    growth = None
    if first["rss_mib"] and last["rss_mib"]:
        growth = round(last["rss_mib"] / first["rss_mib"] - 1, 4)
    return {
        "workload": workload.name,
        "requests": answered,
        "non_2xx": non_2xx,
        "readings": readings,
        "growth": growth,
    }
