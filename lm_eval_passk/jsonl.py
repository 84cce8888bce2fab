"""Read JSON-lines files (plain or gzipped) one record at a time, with errors that name the
file and the line: benchmark files, samples files and judge journals all use it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class JsonLinesError(ValueError):
    """A line that is not a JSON object; the message names the file and the line."""


def open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line of `path`."""
    with open_text(path) as lines:
        line_number = 0
        try:
            for line_number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise JsonLinesError(
                        f"{path}, line {line_number}: not valid JSON ({error.msg}); "
                        "the file may be truncated"
                    ) from None
                if not isinstance(record, dict):
                    raise JsonLinesError(f"{path}, line {line_number}: expected a JSON object")
                yield line_number, record
        except (EOFError, gzip.BadGzipFile) as error:
            raise JsonLinesError(f"{path}, after line {line_number}: {error}") from None
