"""A grading worker: reads JSON-line jobs on stdin, answers one JSON line each on stdout.

Started by pool.py; not a public interface. A job is {"check": "package.module:function",
"args": [...]}; the reply is {"status": "ok", "value": ...} or {"status": "error",
"error": "..."}; the first line out is {"status": "ready"}. Arguments name modules whose
`warm_up()` runs before that line. Timeouts are the parent's business: it kills this process.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

def _resolve(check: str, cache: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    if check not in cache:
        module_name, _, function_name = check.partition(":")
        cache[check] = getattr(importlib.import_module(module_name), function_name)
    return cache[check]


def main() -> None:
    replies = sys.stdout
    sys.stdout = sys.stderr  # a stray print in a check must not corrupt the reply stream
    checks: dict[str, Callable[..., Any]] = {}
    # Import the heavy modules before the first job, so that no job's timeout pays for
    # them; the parent sends work only after "ready".
    for module in sys.argv[1:]:
        importlib.import_module(module).warm_up()
    replies.write(json.dumps({"status": "ready"}) + "\n")
    replies.flush()
    for line in sys.stdin:
        job = json.loads(line)
        try:
            value = _resolve(job["check"], checks)(*job["args"])
            reply = {"status": "ok", "value": value}
        except MemoryError:
            reply = {"status": "error", "error": "MemoryError"}
        except Exception as error:  # report, never die: the parent maps this to a verdict
            reply = {"status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
