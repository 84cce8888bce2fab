"""A single-node Slurm cluster for the tests, started from Debian's slurm-wlm and munge in a
temporary directory: munged on its own socket and key, slurmctld and slurmd in the
foreground as children of the test process (so they are stopped by pid, whatever happens),
all state, spool, pid and log files in that directory, ports picked free."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")


def missing() -> str | None:
    """Why no cluster can start here, or None."""
    absent = [name for name in (*DAEMONS, "sbatch") if shutil.which(name) is None]
    if absent:
        return f"{', '.join(absent)} not installed (apt-get install slurm-wlm munge; .ci/run does)"
    if os.geteuid() != 0:
        return "slurmd must run as root to start jobs"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CONFIG = """ClusterName=passk-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# Keep ended jobs in the controller's memory for the whole test (no accounting here).
MinJobAge=3600
NodeName=passk-node NodeHostname={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=passk-node Default=YES MaxTime=INFINITE State=UP
"""


@contextmanager
def single_node_cluster(root: Path) -> Iterator[dict[str, str]]:
    """Start the cluster under `root`; yield the environment its commands need (SLURM_CONF)."""
    for folder in ("munge", "state", "spool", "log"):
        (root / folder).mkdir(parents=True)
    (root / "munge").chmod(0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = root / "slurm.conf"
    conf.write_text(CONFIG.format(
        root=root, ctld_port=_free_port(), slurmd_port=_free_port(), host=socket.gethostname(),
        cpus=os.cpu_count() or 1,
    ))  # fmt: skip
    env = dict(os.environ, SLURM_CONF=str(conf))
    logs = (root / "log" / "daemons.log").open("w")
    started: list[subprocess.Popen] = []
    try:
        started.append(subprocess.Popen(
            ["munged", "--foreground", "--force", f"--key-file={key}", f"--socket={root}/munge/munge.socket",
             f"--pid-file={root}/munge/munged.pid", f"--log-file={root}/munge/munged.log",
             f"--seed-file={root}/munge/munged.seed"],
            stdout=logs, stderr=logs,
        ))  # fmt: skip
        _wait(lambda: (root / "munge" / "munge.socket").exists(), "munged's socket", root)
        started.append(subprocess.Popen(["slurmctld", "-D", "-i"], env=env, stdout=logs, stderr=logs))
        started.append(subprocess.Popen(["slurmd", "-D", "-N", "passk-node"], env=env, stdout=logs, stderr=logs))
        _wait(lambda: _idle(env), "the node to be idle", root)
        yield env
    finally:
        if len(started) == len(DAEMONS):  # the jobs this cluster still runs are the test's own
            subprocess.run(["scancel", "--me"], env=env, capture_output=True, check=False, timeout=60)
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs.close()


def _idle(env: dict[str, str]) -> bool:
    result = subprocess.run(
        ["sinfo", "--noheader", "--format=%t"], env=env, capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and result.stdout.strip() == "idle"


def _wait(ready: Callable[[], bool], what: str, root: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            logs = "\n".join(path.read_text()[-2000:] for path in sorted(root.rglob("*.log")))
            raise RuntimeError(f"the test cluster did not start: no {what} after {seconds:.0f} s\n{logs}")
        time.sleep(0.5)


def wait_for_queue(env: dict[str, str], settled: Callable[[str], bool], seconds: float = 900) -> str:
    """Poll `squeue` until `settled(squeue_output)` holds; the last output."""
    deadline = time.monotonic() + seconds
    while True:
        out = subprocess.run(
            ["squeue", "--noheader", "--array", "--format=%i|%T|%r"], env=env, capture_output=True, text=True,
            check=True,
        ).stdout  # fmt: skip
        if settled(out):
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"the queue did not settle in {seconds:.0f} s:\n{out}")
        time.sleep(2)
