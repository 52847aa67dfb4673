"""Serve Folio with uvicorn on the configured host and port: `python -m app`."""

import argparse
import signal
import subprocess
import sys

import uvicorn
from pydantic import ValidationError

from app.config import EXIT_CONFIG, Settings, get_settings
from app.edge.process import accept_backlog, protocol_name, raise_descriptor_limit
from app.observe.logs import configure_logging


def worker_count() -> int:
    """WORKERS, or 1 where the settings do not parse: the checks then say why, in one line."""
    try:
        return get_settings().workers
    except ValidationError:
        return 1


def checked_settings() -> Settings:
    """The settings, once the start-up checks pass (app/db/checks.py).

    With several workers this process only supervises them, and it keeps whatever it imports.
    So there the checks, which import the models, SQLAlchemy and the drivers, run in a process
    of their own (`python -m app.db.checks`), which says on stderr why the server cannot start
    and exits with its code: 34 MB fewer in the supervising process. With one worker this
    process serves, and runs them itself.
    """
    if worker_count() == 1:
        from app.db.checks import check_start

        return check_start()
    checks = subprocess.run([sys.executable, "-m", "app.db.checks"], check=False)
    if checks.returncode != 0:
        sys.exit(checks.returncode)
    settings = get_settings()
    configure_logging(settings)
    return settings


if __name__ == "__main__":
    argparse.ArgumentParser(
        prog="python -m app",
        description="Check the settings and the database, then serve Folio on HOST:PORT.",
        epilog="Every setting is an environment variable (docs/reference/configuration.md);"
        f" exit code {EXIT_CONFIG} means a setting must be corrected, as the one line on stderr"
        " says.",
    ).parse_args()
    settings = checked_settings()
    # Worker processes inherit it; the connection cap is kept below it (app/edge/connections.py).
    descriptor_limit = raise_descriptor_limit()
    # uvicorn finishes in-flight requests and the lifespan on SIGTERM, then re-raises the
    # signal to the handler it found; exiting 0 there tells supervisors the stop was clean.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=protocol_name(),
        backlog=accept_backlog(descriptor_limit),
        timeout_keep_alive=settings.keep_alive_seconds,
        # uvicorn trusts X-Forwarded-For from loopback unless told otherwise; Folio trusts only
        # the proxies FORWARDED_ALLOW_IPS names, as the limits count by the client's address.
        proxy_headers=bool(settings.forwarded_allow_ips.strip()),
        forwarded_allow_ips=settings.forwarded_allow_ips.strip() or None,
        # Logging is Folio's (one format for every line), and so is the access line.
        log_config=None,
        access_log=False,
    )
