"""Start a server the way users run it, wait until it is ready, read its memory, stop it."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

import httpx

from app.db.migrations import PROJECT_ROOT

READY_TIMEOUT = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_command() -> list[str]:
    """Folio as users start it: `python -m app`, with WORKERS, HOST and PORT in its environment."""
    return [sys.executable, "-m", "app"]


def baseline_command(workers: int, port: int) -> list[str]:
    return [*uvicorn(port, workers), "bench.baseline:app"]


def uvicorn(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def make_key(database_url: str, scope: str = "write", name: str = "bench") -> str:
    """An API key made in that database by the command line tool, `python -m app.keys create`
    (a `write` one by default, which the load's POSTs need)."""
    made = subprocess.run(
        [sys.executable, "-m", "app.keys", "create", "--name", name, "--scope", scope],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.splitlines()[-1]


def served_env(database_url: str, workers: int = 1) -> dict[str, str]:
    """The environment of a Folio the benchmark serves: its database, its worker processes and
    no rate limit, since the load measures throughput and a limit would cut it short."""
    return {"DATABASE_URL": database_url, "WORKERS": str(workers), "RATE_LIMIT_PER_MINUTE": "0"}


def folio_servers(
    stack: ExitStack, envs: dict[str, dict[str, str]], logs: Path, prefix: str
) -> dict[str, "Server"]:
    """One Folio (`python -m app`) per side, in `envs` order, each with that side's environment
    on a free port and logging to `<prefix>-<side>.log`; the stack stops them."""
    return {
        side: stack.enter_context(
            Server(app_command(), free_port(), env, logs / f"{prefix}-{side.replace(' ', '-')}.log")
        )
        for side, env in envs.items()
    }


class Server:
    """A server process on a free loopback port, logging to a file; use as a context manager."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.port = port
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {self.log}")
                try:
                    if client.get("/health/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server was not ready in {READY_TIMEOUT:.0f} s; see {self.log}")

    def stop(self) -> None:
        """Ask uvicorn to shut down (SIGINT, as Ctrl-C would), then insist."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def rss_mib(self) -> float | None:
        """Resident memory of the server and its worker processes, in MiB (Linux only)."""
        if self.process is None:
            return None
        total_kib = 0
        for pid in process_tree(self.process.pid):
            total_kib += vm_rss_kib(pid) or 0
        return round(total_kib / 1024, 1) if total_kib else None

    def cpu_seconds(self) -> float | None:
        """CPU time (user and system) the server and its workers have used so far (Linux only)."""
        if self.process is None:
            return None
        ticks = sum(cpu_ticks(pid) or 0 for pid in process_tree(self.process.pid))
        return ticks / os.sysconf("SC_CLK_TCK")


def vm_rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # utime and stime are the 12th and 13th fields after the parenthesised command name.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def process_tree(root: int) -> list[int]:
    """The process and its descendants, read from /proc (uvicorn's workers are its children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The parent pid is the second field after the parenthesised command name.
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree
