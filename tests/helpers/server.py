"""A real Folio server process (`python -m app`) on a free loopback port, for the fault tests."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from app.db.migrations import PROJECT_ROOT
from bench.server import make_key

HOST = "127.0.0.1"
READY_TIMEOUT = 60.0  # seconds; a loaded machine starts several workers slowly
STOP_TIMEOUT = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def sqlite_file(database_url: str) -> Path:
    """The file a SQLite URL names."""
    path = make_url(database_url).database
    assert path, f"not a SQLite file URL: {database_url}"
    return Path(path)


class ServerProcess:
    """`python -m app` serving one database on 127.0.0.1, logging to a file.

    Once started it holds an admin key (`headers` sends it). Its request rate is not limited
    unless the test sets RATE_LIMIT_PER_MINUTE: these tests load servers on purpose.
    """

    def __init__(self, database_url: str, log: Path, **env: str) -> None:
        self.database_url = database_url
        self.log = log
        self.port = free_port()
        self.env = {
            **os.environ,
            "RATE_LIMIT_PER_MINUTE": "0",
            **env,
            "DATABASE_URL": database_url,
            "HOST": HOST,
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.key = ""
        # How the server is started; a test may run uvicorn's own command line instead.
        self.command = [sys.executable, "-m", "app"]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        """What a client sends to be let in with the server's admin key."""
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> "ServerProcess":
        """Start the process and return once `/health/ready` answers 200."""
        self.launch()
        self.wait_ready()
        if not self.key:
            self.key = make_key(self.database_url, "admin", "tests")
        return self

    def launch(self) -> None:
        """Start the process without waiting for it."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of pytest is not also sent to the server
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if not self.running():
                    raise RuntimeError(f"the server exited:\n{self.log_text()}")
                try:
                    if client.get("/health/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server was not ready in {timeout:.0f} s:\n{self.log_text()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash or an OOM kill, and with it its
        worker processes, which would otherwise live on, serving, without their parent."""
        if self.running():
            assert self.process is not None
            self.kill_group()
            self.process.wait(timeout=STOP_TIMEOUT)

    def kill_group(self) -> None:
        """SIGKILL to every process the server started (it leads a session of its own)."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> tuple[int, float]:
        """SIGTERM, then wait for the exit; return the exit code and the seconds it took."""
        started = time.monotonic()
        self.send_sigterm()
        return self.wait_exit(timeout), time.monotonic() - started

    def send_sigterm(self) -> None:
        """Ask for a graceful stop, as `docker stop` or systemd would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        """The exit code; fails the test (and kills the process) if it takes over `timeout` s."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the server did not exit within {timeout} s:\n{self.log_text()}"
            ) from None

    def stop(self) -> None:
        """Make sure the process and its workers are gone: SIGTERM, then SIGKILL if it
        lingers."""
        if self.process is None:
            return
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        # Workers that outlived their parent (after a SIGKILL of it, or a stop gone wrong).
        self.kill_group()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def running_server(database_url: str, log: Path, **env: str) -> Iterator[ServerProcess]:
    """A started server that is stopped however the block ends."""
    server = ServerProcess(database_url, log, **env)
    try:
        yield server.start()
    finally:
        server.stop()


def problems_in_log(text: str) -> list[str]:
    """Lines of a server log that tell of a failure: tracebacks, errors, locked databases."""
    markers = ("Traceback", "ERROR", "database is locked", "Exception")
    return [line for line in text.splitlines() if any(marker in line for marker in markers)]


def integrity_check(path: Path) -> list[str]:
    """SQLite's verdict on a database file (["ok"] when sound), foreign keys checked too."""
    connection = sqlite3.connect(path, timeout=5)
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        orphans = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    return verdict + [f"foreign key broken: {row}" for row in orphans]
