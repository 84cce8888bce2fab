"""Responses from a served model are on disk as they arrive, and a lost server ends the run
in one line.

lm-eval 0.4.13 writes a run's responses only after all of them are in, and when a server stays
away past `max_retries` its API models end the run with a traceback: every response drawn
until then is lost. lm-eval hands each response to the model's cache hook as it arrives
(`add_partial`), so here that hook is teed into a JSON-lines file in the raw-responses folder
(`api_<time>_<pid>.jsonl`: per response the md5 of its prompt and its text), and a transport
error that outlasts lm-eval's retries becomes one line naming the server, the error and that
file. `sample_seeds.patch_api_models` applies both around TemplateAPI.generate_until.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import IO, Any

from lm_eval_passk.tasks._common.filter import raw_responses_dir


class ArrivalLog:
    """Tees an lm-eval model's cache hook: every generated response goes to a file first."""

    def __init__(self, lm: Any) -> None:
        """Put the tee in place of `lm`'s cache hook until `detach`."""
        self.lm = lm
        self.inner = lm.cache_hook
        self.path: Path | None = None
        self.count = 0
        self._file: IO[str] | None = None
        lm.cache_hook = self

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        if attr == "generate_until" and res is not None:
            if self._file is None:
                directory = raw_responses_dir()
                directory.mkdir(parents=True, exist_ok=True)
                stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
                self.path = directory / f"api_{stamp}_{os.getpid()}.jsonl"
                self._file = self.path.open("a", encoding="utf-8")
            prompt = str(req[0]) if isinstance(req, tuple) and req else str(req)
            record = {"prompt_md5": hashlib.md5(prompt.encode()).hexdigest(), "response": str(res)}
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()  # in the kernel's hands: survives the process dying next
            self.count += 1
        self.inner.add_partial(attr, req, res)

    def detach(self) -> None:
        """Give the model its own hook back and close the file."""
        self.lm.cache_hook = self.inner
        if self._file is not None:
            self._file.close()


def transport_errors() -> tuple[type[BaseException], ...]:
    """What lm-eval's API models raise when the server cannot be reached or answers an error
    (requests' errors are OSErrors; aiohttp's are its ClientError)."""
    try:
        from aiohttp import ClientError
    except ImportError:
        return (OSError,)
    return (OSError, ClientError)


def lost_server_line(lm: Any, error: BaseException, log: ArrivalLog) -> str:
    """The one line a run ends with when its server stays away past lm-eval's retries."""
    kept = (
        f"the {log.count} responses received before are in {log.path}" if log.path
        else "no response had arrived"
    )
    return (
        f"lm-eval-passk: the server at {getattr(lm, 'base_url', '?')} failed after "
        f"{getattr(lm, 'max_retries', '?')} attempts ({type(error).__name__}: {error}); {kept}. "
        "Raise max_retries in --model_args to ride out a restart"
    )
