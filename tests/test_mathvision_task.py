"""mathvision_passk: the loader on hub-schema fixture rows, the grader on known responses,
and one real `lm_eval --model hf-multimodal` run with the tiny VLM (tests/tiny_vlm.py).

The fixture (tests/fixtures/data/mathvision/testmini.jsonl) is four made-up rows in the
hub's schema (id, question with its `<image1>` marker, options, image, answer, solution,
level, subject): three free-form, one multiple-choice (which the task leaves out). Its
images are small PNGs drawn here, one colour per problem; none are kept in the repository.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from fractions import Fraction
from math import comb
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.grading import grade, grade_many
from lm_eval_passk.grading.answer_groups import answer_classes
from lm_eval_passk.tasks._common.dataset import DataError

TASK = "mathvision_passk"
TASKS_DIR = Path(__file__).resolve().parent.parent / "lm_eval_passk" / "tasks"
FIXTURE_JSONL = FIXTURE_DATA / "mathvision" / "testmini.jsonl"
BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
COLOURS = {"3": (200, 30, 30), "12": (30, 60, 200), "27": (230, 200, 40), "40": (30, 170, 40)}
FREE_FORM_IDS = ["3", "12", "40"]
N = 4


def mathvision_utils():
    """The task folder's utils.py, loaded by path as lm-eval's `!function` does."""
    spec = importlib.util.spec_from_file_location("utils_mathvision", TASKS_DIR / "mathvision" / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_rows() -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in FIXTURE_JSONL.read_text().splitlines() if line.strip()]
    return {row["id"]: row for row in rows}


def record(row: dict[str, Any]) -> dict[str, Any]:
    """The grading record the task keeps: the hub row without image and solution."""
    return {key: row[key] for key in ("id", "question", "options", "answer", "level", "subject")}


def make_data_dir(root: Path) -> Path:
    """`root/mathvision/testmini.jsonl` (the fixture) with a 40 x 24 PNG per row."""
    from PIL import Image, ImageDraw

    folder = root / "mathvision"
    (folder / "images").mkdir(parents=True)
    shutil.copy(FIXTURE_JSONL, folder / "testmini.jsonl")
    for row_id, row in fixture_rows().items():
        image = Image.new("RGB", (40, 24), (255, 255, 255))
        ImageDraw.Draw(image).rectangle([6, 4, 26, 20], fill=COLOURS[row_id])
        image.save(folder / row["image"], format="PNG")
    return root


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_data_dir(tmp_path_factory.mktemp("mathvision-data"))


# --- the loader -------------------------------------------------------------------------


def test_free_form_rows_load_with_their_images(data_dir: Path) -> None:
    from PIL import Image

    docs = mathvision_utils().load(data_dir=str(data_dir))["test"]
    assert docs["problem_id"] == [f"mathvision-{i}" for i in FREE_FORM_IDS]  # no multiple choice
    rows = fixture_rows()
    for doc in docs:
        row_id = doc["problem_id"].removeprefix("mathvision-")
        assert isinstance(doc["image"], Image.Image) and doc["image"].size == (40, 24)
        pixel = doc["image"].convert("RGB").getpixel((16, 12))
        assert pixel == COLOURS[row_id], (row_id, pixel)  # PNG: this row's own picture
        prompt = doc["passk_prompt"]
        assert prompt.startswith("<image>") and prompt.count("<image") == 1, prompt
        assert prompt.endswith(BOXED_INSTRUCTION)
        assert doc["answer"] == rows[row_id]["answer"]
        assert json.loads(doc["passk_record"]) == record(rows[row_id])
        assert json.loads(doc["passk_fields"]) == {
            "level": str(rows[row_id]["level"]), "subject": rows[row_id]["subject"]
        }
    prompts = dict(zip(docs["problem_id"], docs["passk_prompt"]))
    # The inline "<image1>" marker is dropped; the question reads on around it.
    assert prompts["mathvision-12"].startswith("<image>The bar in is drawn to scale.")
    assert prompts["mathvision-3"].startswith("<image>How many triangles are in the picture?")


def test_missing_image_names_file_and_line(tmp_path: Path) -> None:
    root = make_data_dir(tmp_path / "data")
    (root / "mathvision" / "images" / "12.png").unlink()
    with pytest.raises(DataError, match=r"testmini\.jsonl, line 2: image .*12\.png not found"):
        mathvision_utils().load(data_dir=str(root))


# --- the grader on known responses ------------------------------------------------------

SQRT_GOLD = {"id": "9", "question": "q", "options": [], "answer": "2\\sqrt{3}", "level": 2, "subject": "s"}
CHOICE = record(fixture_rows()["27"])  # options A-E, answer "C"


@pytest.mark.parametrize(
    ("response", "target", "correct", "answer"),
    [
        ("Count them: \\boxed{3}", "3", True, "3"),
        ("So the length is \\boxed{1.5} cm.", "12", True, "1.5"),  # 1.5 == \frac{3}{2}
        ("The answer is 3/2.", "12", True, "3/2."),
        ("\\boxed{\\dfrac{3}{2}\\text{ cm}}", "12", True, "\\dfrac{3}{2}\\text{ cm}"),
        ("\\boxed{2}", "12", False, "2"),
        ("There are two shaded squares.", "40", True, "2"),  # the concluding number
        ("\\boxed{\\sqrt{12}}", SQRT_GOLD, True, "\\sqrt{12}"),  # symbolic, in the pool
        ("\\boxed{3\\sqrt{2}}", SQRT_GOLD, False, "3\\sqrt{2}"),
        ("The answer is (C).", CHOICE, True, "C"),
        ("\\boxed{B}", CHOICE, False, "B"),
    ],
)
def test_verdicts_on_known_responses(response: str, target: Any, correct: bool, answer: str) -> None:
    target = record(fixture_rows()[target]) if isinstance(target, str) else target
    verdict = grade("mathvision", response, target)
    assert (verdict.correct, verdict.answer) == (correct, answer), verdict


def test_no_answer_and_grading_many_at_once() -> None:
    rows = fixture_rows()
    assert grade("mathvision", "I cannot tell from this picture.", record(rows["3"])).reason == "no_answer"
    responses = ["\\boxed{3}", "\\boxed{1.5}", "\\boxed{2}", "\\boxed{3}"]
    targets = [record(rows[i]) for i in ("3", "12", "40", "40")]
    assert [v.correct for v in grade_many("mathvision", responses, targets)] == [True, True, True, False]


def test_majority_classes_use_the_math_equivalence() -> None:
    classes = answer_classes("mathvision", ["1.5", "\\frac{3}{2}", "2", None, "3/2"])
    assert sorted(map(sorted, classes)) == [[0, 1, 4], [2]]


# --- one real lm_eval run with the tiny VLM through hf-multimodal -----------------------


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.slow
def test_cli_run_grades_every_response(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`lm_eval --model hf-multimodal` on the three free-form problems, n = 4: each request
    carries its problem's PNG and question, and every logged verdict is the grader's; then
    `lm-eval-passk report --regrade --by level` reads the run back."""
    from lm_eval.utils import convert_pil_to_hash
    from PIL import Image
    from tiny_vlm import build_tiny_vlm

    model = build_tiny_vlm(tmp_path / "tiny-vlm")
    run_lm_eval(
        lm_eval_args(
            "hf-multimodal", f"pretrained={model},dtype=float32", TASK,
            {"n": N, "data_dir": str(data_dir)}, tmp_path / "out",
            "--apply_chat_template", "--device", "cpu", "--batch_size", "4",
        ),
        env=offline_env(tmp_path / "raw"),
        cwd=tmp_path,
    )  # fmt: skip
    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    (samples_file,) = (tmp_path / "out").rglob(f"samples_{TASK}_*.jsonl")
    rows = [json.loads(line) for line in samples_file.read_text().splitlines() if line.strip()]
    fixture = fixture_rows()
    assert sorted(row["doc"]["problem_id"] for row in rows) == sorted(f"mathvision-{i}" for i in FREE_FORM_IDS)
    for row in rows:
        row_id = row["doc"]["problem_id"].removeprefix("mathvision-")
        prompt, gen_kwargs, aux = row["arguments"]["gen_args_0"].values()
        assert prompt.startswith("user: <image> "), prompt
        assert prompt.count("<image>") == 1 and "<image1>" not in prompt
        assert prompt.endswith(BOXED_INSTRUCTION + "\nassistant: "), prompt
        with Image.open(data_dir / "mathvision" / fixture[row_id]["image"]) as image:
            assert aux == {"visual": [convert_pil_to_hash(image)]}
        assert gen_kwargs["do_sample"] is True and gen_kwargs["temperature"] == 0.6
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        assert len(responses) == len(verdicts) == N
        for response, verdict in zip(responses, verdicts):
            expected = grade("mathvision", response, record(fixture[row_id])).to_dict()
            assert json.loads(verdict) == expected, response
        assert row["n_correct"] == sum(json.loads(v)["correct"] for v in verdicts)
    results = json.loads(results_file.read_text())["results"][TASK]
    counts = [row["n_correct"] for row in rows]
    for k in (1, 2, 4):
        expected = sum(exact_pass_at_k(N, c, k) for c in counts) / len(counts)
        assert results[f"pass@{k},passk"] == pytest.approx(float(expected), abs=1e-12)

    from lm_eval_passk.cli import main

    capsys.readouterr()
    assert main(["report", str(tmp_path / "out"), "--regrade", "--by", "level", "--format", "json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["tasks"][TASK].values()
    assert summary["n"] == N
    assert summary["pass_at_k"]["1"] == pytest.approx(results["pass@1,passk"], abs=1e-12)
