"""Asks a server `GET /health/live` every few milliseconds until its stdin closes, then prints
`{"worst": seconds, "answers": n}`: `python tests/faults/latency_probe.py HOST PORT`.

A process of its own, with nothing but the standard library, so that its timing is the
server's: the test process's own pauses (its garbage collector over a large heap) do not
show as the server's latency.
"""

import http.client
import json
import sys
import threading
import time

POLL_SECONDS = 0.005


def main(host: str, port: int) -> None:
    stopped = threading.Event()

    def wait_for_stdin_to_close() -> None:
        sys.stdin.read()
        stopped.set()

    threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    worst, answers = 0.0, 0
    while not stopped.is_set():
        started = time.perf_counter()
        connection.request("GET", "/health/live")
        response = connection.getresponse()
        response.read()
        worst = max(worst, time.perf_counter() - started)
        answers += 1
        if response.status != 200:
            raise SystemExit(f"/health/live answered {response.status}")
        time.sleep(POLL_SECONDS)
    sys.stdout.write(json.dumps({"worst": worst, "answers": answers}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
