"""What a command tells its operator: lines on stderr, apart from its output, and progress, as
a bar on a terminal or a plain line every few seconds elsewhere.

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


def say(text: str) -> None:
    """A line for the operator, on stderr, apart from the output."""
    sys.stderr.write(text + "\n")


class Progress:
    """Counts work done towards `total`; use as a context manager and call `advance`."""

    def __init__(
        self,
        description: str,
        total: int | None,
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
        # Said after the count, such as how many rows failed.
        self.note = ""
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
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=self.total, note="")
        else:
            self.line()
        return self

    def advance(self, amount: int = 1) -> None:
        """Count `amount` more done."""
        self.update(self.done + amount)

    def update(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """Count `done` in all, of `total` when it has become known, with a `note` to show."""
        self.done = done
        self.total = self.total if total is None else total
        self.note = self.note if note is None else note
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done, total=self.total, note=self.note)
        elif time.monotonic() - self.last_line >= self.interval:
            self.line()

    def line(self) -> None:
        total = "?" if self.total is None else self.total
        percent = f" ({self.done * 100 // self.total}%)" if self.total else ""
        note = f", {self.note}" if self.note else ""
        self.stream.write(f"{self.description}: {self.done}/{total} {self.unit}{note}{percent}\n")
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
