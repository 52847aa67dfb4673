"""Serve Folio with uvicorn on the configured host and port: `python -m app`."""

import argparse
import signal
import sys

import uvicorn

from app.db.checks import EXIT_CONFIG, check_start
from app.edge.connections import accept_backlog, protocol_class, raise_descriptor_limit

if __name__ == "__main__":
    argparse.ArgumentParser(
        prog="python -m app",
        description="Check the settings and the database, then serve Folio on HOST:PORT.",
        epilog="Every setting is an environment variable (docs/reference/configuration.md);"
        f" exit code {EXIT_CONFIG} means a setting must be corrected, as the one line on stderr"
        " says.",
    ).parse_args()
    settings = check_start()
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
        http=protocol_class(),
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
