"""The one progress reporter of our long loops (grading, the judge, perplexity, merge):
tqdm's bar where stderr is a terminal; elsewhere (a cluster job's log file, a pipe) plain
lines, never carriage-return updates.

A plain line is written when another 10% of the items are done or 30 s have passed since the
last line, whichever comes first (issue 23: a 2,000-program code grading wrote one log line of
hundreds of carriage-return updates; a user watching a job's log could not tell a slow
grading from a hung one). A start line and a final line frame them, so a grading of any length
writes between 2 and about 12 + minutes x 2 lines. Pure: no lm-eval import (grading/ uses it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Self

# A plain line at least this often while items keep finishing (a slow grading shows it lives)...
PLAIN_INTERVAL_S = 30.0
# ...and at most one per this fraction of the items otherwise (10 lines for any quick batch).
PLAIN_FRACTION = 0.1


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Counts finished items under a description; use as a context manager, call update(n)."""

    def __init__(
        self,
        description: str,
        total: int | None = None,
        unit: str = "items",
        disable: bool = False,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._bar = None
        self._disabled = disable
        self._closed = False
        if disable:
            return
        if _is_terminal(self._stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=description, unit=f" {unit}", file=self._stream)
            return
        self._start = self._last_time = clock()
        self._last_done = 0
        size = f"{total:,} {unit}" if total is not None else unit
        self._write(f"{description}: {size}, started")

    def update(self, count: int = 1) -> None:
        """Record `count` more finished items."""
        self.done += count
        if self._disabled or self._closed:
            return
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self._clock()
        step = self.total * PLAIN_FRACTION if self.total else None
        if now - self._last_time >= PLAIN_INTERVAL_S or (step and self.done - self._last_done >= step):
            if self.total is None or self.done < self.total:  # the last one is close()'s
                self._write(self._line(now))
            self._last_time, self._last_done = now, self.done

    def close(self) -> None:
        """Finish: close the bar, or write the final plain line."""
        if self._disabled or self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
            return
        now = self._clock()
        elapsed = now - self._start
        rate = f", {self.done / elapsed:,.1f}/s" if elapsed > 0 else ""
        of = f"/{self.total:,}" if self.total is not None else ""
        self._write(f"{self.description}: {self.done:,}{of} {self.unit} done in {_duration(elapsed)}{rate}")

    def _line(self, now: float) -> str:
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.description}: {self.done:,} {self.unit}, {rate:,.1f}/s"
        left = f", {_duration((self.total - self.done) / rate)} left" if rate > 0 else ""
        percent = 100 * self.done / self.total if self.total else 100.0
        return f"{self.description}: {self.done:,}/{self.total:,} {self.unit} ({percent:.0f}%), {rate:,.1f}/s{left}"

    def _write(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: plain lines
        return False
