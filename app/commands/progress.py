"""Progress of a long command: a bar on a terminal, a plain line every few seconds elsewhere.

A log file or a CI job gets no control characters, only lines it can read later.
"""

import sys
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as Bar

# Seconds between two plain lines when the output is not a terminal.
LINE_INTERVAL = 5.0


class Progress:
    """Counts work done towards `total`; use as a context manager and call `advance`."""

    def __init__(
        self,
        description: str,
        total: int,
        unit: str,
        *,
        stream: TextIO | None = None,
        interval: float = LINE_INTERVAL,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.stream = stream or sys.stderr
        self.interval = interval
        self.done = 0
        self.started = self.last_line = time.monotonic()
        self.bar: Bar | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> "Progress":
        self.started = self.last_line = time.monotonic()
        if self.stream.isatty():
            self.bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=self.total)
        else:
            self.line()
        return self

    def advance(self, amount: int = 1) -> None:
        """Count `amount` more done."""
        self.done += amount
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done)
        elif time.monotonic() - self.last_line >= self.interval:
            self.line()

    def line(self) -> None:
        percent = f" ({self.done * 100 // self.total}%)" if self.total else ""
        self.stream.write(f"{self.description}: {self.done}/{self.total} {self.unit}{percent}\n")
        self.stream.flush()
        self.last_line = time.monotonic()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()
        elif exc_type is None:
            self.line()
