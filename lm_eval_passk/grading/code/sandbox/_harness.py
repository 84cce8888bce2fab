"""The inside half of the sandbox: runs one program on one test after another.

supervise.py, next to it, starts this file's source as `python -s -c <source> <config>`
inside the sandbox; it is not a public interface and imports nothing from lm_eval_passk. It
is trusted code: it finishes setting up (drops to the sandbox's uid, and without bubblewrap
makes its own mount and network namespaces), imports the modules every program gets, and
only then reads the program. Each test runs in a forked child, so a test costs a fork
rather than an interpreter start; the program's code runs only in those children.

Protocol. In, on stdin: length-prefixed messages (`<n>\\n` then n bytes); the first is
the program as JSON {"kind", "source", "func_name"}, each later one a test's input (stdin
programs) or its JSON argument list (functional programs). Out, on stdout, only frames
written by this process: `<tag><n>\\n` then n bytes, tag `R` (ready, JSON), `O` (a piece of
the test's output) or `T` (the test's end: exit status and time, JSON). A test's program
never holds this stdout: its output goes to a pipe of its own, which the harness reads and
frames, so nothing a program prints can pass for a frame, a later test's output or a time.
The harness is not dumpable, so a program cannot reach its descriptors or memory through
/proc or ptrace. The parent compares outputs; expected outputs are never sent here.
"""

import atexit
import ctypes
import gc
import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
import types

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18

# The names LiveCodeBench's runner puts in front of every program, so that code graded
# correct there (LeetCode starter code uses `List` without importing it) runs here too.
PRELUDE_MODULES = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
    "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing",
)  # fmt: skip
PRELUDE = (
    "".join(f"from {name} import *\n" for name in PRELUDE_MODULES)
    + "".join(f"import {name}\n" for name in PRELUDE_MODULES if name not in ("builtins", "typing"))
    + "sys.setrecursionlimit(50000)\n"
)

# Kernel keyrings: keyctl(2) by number, since libc has no wrapper (keyutils is not needed).
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219, "ppc64le": 280, "s390x": 280}.get(os.uname().machine)
KEYCTL_JOIN_SESSION_KEYRING = 1

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _prctl(option, value):
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def _mount(source, target, fstype, flags, data):
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(
        _libc.mount(
            encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)
        ),
        f"mount {target}",
    )


def _new_session_keyring():
    """Join a new, empty, anonymous session keyring: the program cannot reach the keyring
    of whoever started the grader, nor one an earlier test or program left a key in."""
    if SYS_KEYCTL is None:
        return
    if _libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None, 0, 0, 0) < 0:
        error = ctypes.get_errno()
        if error != 38:  # ENOSYS: a kernel without keys has none to leak
            raise OSError(error, f"keyctl join session keyring: {os.strerror(error)}")


def _isolate(config):
    """Without bubblewrap, as root: a network namespace (only a loopback, down), an IPC
    namespace, a PID namespace and a mount namespace whose root is default-deny, as
    bubblewrap's is (`_new_root`). Returns whether the mount namespace could be made (a
    container may forbid it)."""
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare network")
    except OSError:
        pass  # the warning the parent logged says the network may be reachable
    try:  # System V shared memory, queues and semaphores of its own, gone with the sandbox
        _check(_libc.unshare(CLONE_NEWIPC), "unshare IPC")
        config["own_ipc"] = True
    except OSError:
        pass  # the parent removes what the slot uid left in the host's IPC namespace
    try:
        _check(_libc.unshare(CLONE_NEWNS), "unshare mounts")
    except OSError:
        return False
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)  # nothing below leaks to the host
    root = _new_root(config)
    _enter_pid_namespace(root + "/proc")
    os.chroot(root)  # the harness drops to the slot uid before any program: no way back out
    os.chdir("/")
    return True


# What the fallback's root holds of the host's /dev (bubblewrap's --dev has the same).
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_NEW_ROOT = "/tmp"  # a mount point that exists everywhere; a tmpfs over it in here only


def _new_root(config):
    """An empty tmpfs into which only the system directories and the interpreter's own are
    bound, read-only, with a /dev of the usual devices, a 16 MiB /dev/shm and a fresh /tmp:
    bubblewrap's default-deny view (visibility.bwrap_command), so no other directory of the
    host (a dataset, a checkout, a cache) can be read. Returns where it is mounted; /proc is
    mounted in it once the PID namespace exists."""
    directories, links = {}, {}
    for path in (*config["system"], *config["expose"]):
        if os.path.islink(path) and path in config["system"]:
            links[path] = os.readlink(path)  # /bin -> usr/bin on merged-/usr systems
        elif os.path.isdir(path) and path not in directories:
            directories[path] = os.open(path, os.O_PATH)
    devices = {
        name: os.open(f"/dev/{name}", os.O_PATH)
        for name in _DEVICES
        if os.path.exists(f"/dev/{name}")
    }
    root = _NEW_ROOT
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    os.mkdir(root + "/tmp", 0o755)  # first: an interpreter under /tmp is bound inside it
    scratch = f"size={config['scratch_bytes']},mode=1777"
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, scratch)
    read_only = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
    for path in sorted(directories, key=len):  # a directory before what lies inside it
        target = root + path
        os.makedirs(target, 0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{directories[path]}", target, None, MS_BIND | MS_REC, None)
        _mount(None, target, None, read_only, None)
        os.close(directories[path])
    for path in config["mask"]:  # benchmark data shipped inside site-packages
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0755")
    for path, destination in links.items():
        os.symlink(destination, root + path)
    os.mkdir(root + "/dev", 0o755)
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID, "size=64k,mode=0755")
    for name, descriptor in devices.items():
        open(f"{root}/dev/{name}", "w").close()
        _mount(f"/proc/self/fd/{descriptor}", f"{root}/dev/{name}", None, MS_BIND, None)
        os.close(descriptor)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(target, f"{root}/dev/{name}")
    os.mkdir(root + "/dev/shm", 0o755)
    _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={16 << 20},mode=1777")
    os.mkdir(root + "/proc", 0o555)
    return root


def _enter_pid_namespace(proc):
    """Without bubblewrap, as root: carry on as pid 1 of a new PID namespace, with a /proc of
    its own (mounted at `proc`), so that a program sees no host process (nor its command
    line) and everything it starts ends with the sandbox. This process stays outside,
    waiting, and exits as the namespace's first process did; that one dies with it
    (PR_SET_PDEATHSIG). Where the kernel refuses, the host's /proc is bound there."""
    try:
        _check(_libc.unshare(CLONE_NEWPID), "unshare PID")
    except OSError:
        _mount("/proc", proc, None, MS_BIND | MS_REC, None)  # leftovers are killed by uid
        return
    child = os.fork()
    if child:
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    try:  # the host's /proc would show host pids, which mean nothing in here
        _mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    except OSError:  # a container that masks parts of /proc refuses a new one
        _mount("/proc", proc, None, MS_BIND | MS_REC, None)  # kill(-1) still reaps


def _limit_ipc(total_bytes):
    """As root in an IPC namespace of the sandbox's own (never the host's): System V shared
    memory is not charged to RLIMIT_AS, so bound it (and message queues) for the namespace."""
    page = os.sysconf("SC_PAGE_SIZE")
    for name, value in (
        ("shmmax", total_bytes),  # bytes per segment
        ("shmall", total_bytes // page),  # pages in all segments
        ("shmmni", 64),  # segments
        ("msgmni", 16),  # message queues (16 KiB each by default)
    ):
        try:
            with open(f"/proc/sys/kernel/{name}", "w") as setting:
                setting.write(str(value))
        except OSError:  # a read-only /proc/sys: the kernel's defaults stay
            pass


def _setup(config):
    """Everything before the first program: isolation, work directory, privileges."""
    info = {"workdir_on_host": None}
    os.umask(0o022)
    uid = config["uid"]
    mounts = config["isolate"] and _isolate(config)
    if not config["chdir_done"]:
        if mounts:
            workdir = "/tmp/work"
            os.mkdir(workdir, 0o700)
        else:  # a directory on the host; the parent removes it
            workdir = tempfile.mkdtemp(prefix="lm_eval_passk-work-")
            info["workdir_on_host"] = workdir
        if uid is not None:
            os.chown(workdir, uid, uid)
        os.chdir(workdir)
    os.environ["HOME"] = os.getcwd()
    os.environ.pop("PWD", None)  # bubblewrap's --chdir adds it; the environment is ours
    if uid is not None and config.get("own_ipc"):
        _limit_ipc(config["ipc_bytes"])
    for name in PRELUDE_MODULES:  # imported while every path is still readable
        __import__(name)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # as root this sets the real, effective and saved uid: no way back
    _new_session_keyring()  # owned by the sandbox's uid
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # no setuid binary can raise a program's privileges
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # setuid cleared the one set before
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a program become ours, to be killed
    # Not dumpable: a program (same uid) cannot open /proc/<harness>/fd/1 (this process's
    # output channel), read its memory or ptrace it.
    _prctl(PR_SET_DUMPABLE, 0)
    return info


def _write_all(descriptor, data):
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _frame(tag, data):
    """One frame to the parent, on the channel only this process writes."""
    _write_all(1, b"%s%d\n" % (tag, len(data)))
    _write_all(1, data)


def _finish_test(reader, pid, started, config):
    """Relay a test's output until it ends, clear up after it, and send its trailer."""
    status, usage, seconds = _relay(reader, pid, started)
    _reap_descendants(config["kill_all"])
    _drain(reader)
    os.close(reader)
    trailer = {
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": round(seconds, 4),
        "max_rss_kb": usage.ru_maxrss,
    }
    _frame(b"T", json.dumps(trailer).encode())


def _relay(reader, pid, started):
    """Frame what the test's program writes to its output pipe until the pipe ends or the
    program's process exits (a leftover child may hold the pipe open). Returns the wait
    status, the resource usage and the seconds from fork to exit, timed here."""
    while True:
        ready, _, _ = select.select([reader], [], [], 0.02)
        if ready:
            chunk = os.read(reader, 1 << 20)
            if chunk:
                _frame(b"O", chunk)
                continue
            _, status, usage = os.wait4(pid, 0)  # every writer is gone
            return status, usage, time.monotonic() - started
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, time.monotonic() - started


def _drain(reader):
    """Frame what is left in the pipe once every process of the test has been killed."""
    os.set_blocking(reader, False)
    while True:
        try:
            chunk = os.read(reader, 1 << 20)
        except BlockingIOError:  # a writer survived the cleanup: what it held is dropped
            return
        if not chunk:
            return
        _frame(b"O", chunk)


def _read_message(control):
    """One message off the control pipe, read unbuffered: never a byte past it, so a test
    sent early is not in this process's memory (in a read-ahead buffer) when a function
    task's solution process is forked from it."""
    fd = control.fileno()
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte or len(line) > 24:
            return None
        line += byte
    size = int(line)
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _children():
    """This process's children, from /proc (the `children` file where the kernel has it)."""
    me = os.getpid()
    try:
        with open(f"/proc/self/task/{me}/children") as listing:
            return [int(pid) for pid in listing.read().split()]
    except OSError:
        pass
    children = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(me):  # fields after the command: state, ppid, ...
            children.append(int(name))
    return children


def _reap_descendants(kill_all):
    """Kill and collect every process the program left behind. Orphans are re-parented to
    this subreaper, so killing children until there are none reaches all descendants."""
    while True:
        if kill_all:  # everything this uid may signal: the sandbox's own processes only
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _run_child(control, test_stdin, output, program, code, arguments, config):
    """In the forked child: wire up stdin and stdout, run the program, exit. Never returns.
    The harness's own stdout (fd 1) is replaced before any of the program's code runs."""
    control.close()
    os.dup2(test_stdin, 0)
    os.close(test_stdin)
    _enter_test_process(config, dumpable=True)  # its own /proc/self/fd (subprocess reads it)
    functional = program["kind"] == "functional"
    if functional:  # the method's return value is the answer; its prints are discarded
        result_out = output
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    else:
        os.dup2(output, 1)
        os.close(output)
    module = types.ModuleType("solution" if functional else "__main__")
    module.__file__ = "solution.py"
    namespace = module.__dict__
    sys.argv = ["solution.py"]
    if not functional:  # `if __name__ == "__main__":` runs, and pickle finds its classes
        sys.modules["__main__"] = module
    try:
        exec(PRELUDE, namespace)
        if code is None:  # the source did not compile: raise that error here
            compile(program["source"], "solution.py", "exec")
        exec(code, namespace)
        if functional:
            owner = namespace["Solution"]() if "Solution" in namespace else module
            result = getattr(owner, program["func_name"])(*arguments)
            _write_all(result_out, json.dumps(result).encode())
        status = 0
    except SystemExit as exit:
        status = _exit_status(exit.code)
    except BaseException:
        traceback.print_exc()
        status = 1
    _finish(status)


def _enter_test_process(config, dumpable):
    """A forked child's limits: a fresh session keyring (nothing an earlier test stored in
    one), CPU time and file size; dumpable only for a program's own process."""
    _prctl(PR_SET_DUMPABLE, 1 if dumpable else 0)
    _new_session_keyring()
    # SIGXCPU (which ends the program) at the soft limit, SIGKILL a second later.
    resource.setrlimit(resource.RLIMIT_CPU, (config["cpu_seconds"], config["cpu_seconds"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_bytes"], config["file_bytes"]))
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _keep_only(descriptors):
    """Close every descriptor but `descriptors` (0, 1 and 2 always stay)."""
    kept = sorted({0, 1, 2, *descriptors})
    for low, high in zip(kept, kept[1:] + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]):
        os.closerange(low + 1, high)


def _null_stdout():
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _run_function_test(control, program, code, config):
    """A function task (`_function_calls.py`): the candidate's process is forked before the
    test is read, so it never holds a copy of it; the test's process is forked after, not
    dumpable, and alone holds the verdict pipe. One test per sandbox: a second test would
    have been in this process's memory when the next candidate's process was forked."""
    calls = types.ModuleType("function_calls")
    exec(compile(program["runner"], "function_calls.py", "exec"), calls.__dict__)
    to_candidate, from_test = os.pipe()
    to_test, from_candidate = os.pipe()
    candidate = os.fork()
    if candidate == 0:
        try:
            control.close()
            _keep_only({to_candidate, from_candidate})
            _null_stdout()  # the solution's prints; the harness's channel is gone from here
            _enter_test_process(config, dumpable=True)
            calls.serve_candidate(
                to_candidate, from_candidate, program["source"], code, program["func_name"]
            )
        finally:
            os._exit(1)
    os.close(to_candidate)
    os.close(from_candidate)
    payload = _read_message(control)
    if payload is None:
        _reap_descendants(config["kill_all"])
        return
    reader, writer = os.pipe()
    started = time.monotonic()
    test = os.fork()
    if test == 0:
        try:
            control.close()
            _keep_only({from_test, to_test, writer})
            _null_stdout()
            _enter_test_process(config, dumpable=False)  # its memory and pipes stay its own
            writable = (os.getcwd(), "/tmp", "/var/tmp", "/dev/shm")
            os.chdir("/")  # not the working directory, where the candidate may write modules
            sys.path[:] = [p for p in sys.path if os.path.isabs(p) and not _under(p, writable)]
            sys.path_importer_cache.clear()
            calls.run_test(from_test, to_test, writer, payload)
        finally:
            os._exit(1)
    payload = None
    for descriptor in (from_test, to_test, writer):
        os.close(descriptor)
    _finish_test(reader, test, started, config)


def _under(path, tops):
    """Whether `path` lies in one of `tops` (where a sandboxed program may plant a module)."""
    return any(path == top or path.startswith(top.rstrip("/") + "/") for top in tops)


def _exit_status(code):
    """What the interpreter would exit with for `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _finish(status):
    """The interpreter's exit, less tearing down every module (10 ms of a 14 ms test):
    wait for the program's non-daemon threads, run its atexit functions, flush."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            status = status or 120  # what the interpreter reports for a failed flush
    os._exit(status)


def main():
    config = json.loads(sys.argv[1])
    control = os.fdopen(os.dup(0), "rb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    info = _setup(config)
    _frame(b"R", json.dumps(info).encode())
    message = _read_message(control)
    if message is None:
        return
    program = json.loads(message)
    try:
        code = compile(program["source"], "solution.py", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        code = None  # each test's child re-raises it, so the failure reads as a crash
    gc.freeze()  # forked children then share the harness's pages instead of copying them
    if program["kind"] == "function":
        _run_function_test(control, program, code, config)
        return
    while True:
        payload = _read_message(control)
        if payload is None:
            return
        arguments = json.loads(payload) if program["kind"] == "functional" else None
        test_stdin = os.memfd_create("stdin")
        if arguments is None:
            _write_all(test_stdin, payload)
            os.lseek(test_stdin, 0, os.SEEK_SET)
        payload = None  # a large input is in the memfd now, not in every child's memory
        reader, writer = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(reader)
                _run_child(control, test_stdin, writer, program, code, arguments, config)
            finally:  # never back into this loop, whatever the program did to the child
                os._exit(1)
        os.close(test_stdin)
        os.close(writer)
        _finish_test(reader, pid, started, config)


if __name__ == "__main__":
    main()
