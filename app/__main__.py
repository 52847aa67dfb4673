"""Serve Folio with uvicorn on the configured host and port: `python -m app`."""

import signal
import sys

import uvicorn

from app.config import get_settings

if __name__ == "__main__":
    settings = get_settings()
    # uvicorn finishes in-flight requests and the lifespan on SIGTERM, then re-raises the
    # signal to the handler it found; exiting 0 there tells supervisors the stop was clean.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run("app.main:create_app", factory=True, host=settings.host, port=settings.port)
