"""`transformers serve` on loopback for tests: start it on a free port, wait for /health,
always stop it (the whole process group: the server runs the model in a child process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Loading the tiny model takes a few seconds; a loaded machine can take much longer.
START_TIMEOUT_S = 180


@dataclass
class Server:
    model: Path
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(model: Path, port: int, log: Path) -> Server:
    """Start `transformers serve MODEL` on 127.0.0.1:port; return once /health answers."""
    script = Path(sys.executable).with_name("transformers")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "transformers.cli.transformers"]
    command += [
        "serve", str(model), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu",
        "--dtype", "float32", "--log-level", "warning",
    ]  # fmt: skip
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Server(model, port, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"transformers serve did not come up on port {port}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return server


def stop_server(server: Server) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after 20 s."""
    if server.process.poll() is not None:
        return
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=20)
    except ProcessLookupError:
        pass


@contextmanager
def served(model: Path, log: Path) -> Iterator[Server]:
    """A running server for the block; stopped however the block ends."""
    server = start_server(model, free_port(), log)
    try:
        yield server
    finally:
        stop_server(server)
