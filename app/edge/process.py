"""What `python -m app` sets up before uvicorn starts: the process's open-file limit, the listen
backlog that fits it, and the HTTP protocol, named rather than imported.

This module imports no more than the standard library: the process that starts several workers
only supervises them, and what it imports it keeps (see app/__main__.py).
"""

import importlib.util
import resource

# Descriptors kept for everything but connections: the listening socket, database connections
# and files, logs. Connections accepted but not yet served or refused come on top.
DESCRIPTOR_RESERVE = 64


def raise_descriptor_limit() -> int:
    """Raise the soft limit on open files to the hard one, as far as the system allows;
    return the limit the process runs with."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # the system caps it lower (nr_open); the cap below follows the soft limit
    return soft


def accept_backlog(limit: int) -> int:
    """The listen backlog for a process that may open `limit` files.

    asyncio also takes it as the most connections it accepts in one go, before any of their
    protocols runs: uvicorn's 2048 would exhaust a limit of 1,024 at once, so a low limit
    gets a smaller one (a burst beyond it waits for the client's SYN to be sent again).
    """
    return max(128, min(2048, limit // 8))


def protocol_name() -> str:
    """The protocol uvicorn would pick (httptools when installed), with Folio's additions
    (app/edge/connections.py), as uvicorn imports it in each worker."""
    if importlib.util.find_spec("httptools") is None:  # pragma: no cover
        return "app.edge.connections:FolioH11Protocol"
    return "app.edge.connections:FolioHttpToolsProtocol"
