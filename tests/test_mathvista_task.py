"""mathvista_passk end to end through lm-eval's `hf-multimodal` backend, offline.

What is real here: the `lm_eval` CLI (in a subprocess) and lm-eval's HFMultimodalLM
(lm_eval/models/hf_vlms.py) with its chat-template and image handling; transformers'
LlavaForConditionalGeneration and LlavaProcessor (CLIP image processor + a word-level
tokenizer), loaded by AutoModelForImageTextToText / AutoProcessor from a directory; our
task's loader, prompt, filter, grader and pass@k metrics. What is made up: the model
(tests/tiny_vlm.py: a randomly initialised 1-layer CLIP + 1-layer Llama, built at test
time), the problems (tests/fixtures/data/mathvista/testmini.json) and their images (small
coloured JPEGs drawn here; none are kept in the repository).

What is checked against what: the logged prompt against the fixture question and the
boxed instruction; the logged image hash against the JPEG written here; the pixel values
the vision tower received against the processor's encoding of those JPEGs, and the
language model's input embeddings at the image-token positions against the projector's
output (so the image really reaches the text model); the reported pass@k against the
unbiased estimator recomputed with exact binomials from the logged n_correct; every
logged verdict against `grade("mathvista", response, record)`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from dataclasses import asdict
from fractions import Fraction
from math import comb
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DATA, SHARED_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.grading import grade
from lm_eval_passk.metrics.sampling import count_duplicates
from lm_eval_passk.tasks._common.dataset import DataError

TASK = "mathvista_passk"
TASKS_DIR = Path(__file__).resolve().parent.parent / "lm_eval_passk" / "tasks"
FIXTURE_JSON = FIXTURE_DATA / "mathvista" / "testmini.json"
BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
N = 8
# One distinct colour per fixture problem, so each image has its own hash and pixels.
COLOURS = {"7": (200, 30, 30), "15": (30, 60, 200), "23": (30, 170, 40), "31": (230, 200, 40)}
FREE_FORM_PIDS = ["7", "15", "23"]


def mathvista_utils():
    """The task folder's utils.py, loaded by path as lm-eval's `!function` does."""
    spec = importlib.util.spec_from_file_location("utils_mathvista", TASKS_DIR / "mathvista" / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def draw_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> None:
    """A small JPEG: a coloured square on a white 48 x 32 canvas (not square, so the
    processor resizes and crops it)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(image).rectangle([8, 4, 8 + size[1] - 8, size[1] - 4], fill=colour)
    image.save(path, format="JPEG")


def make_data_dir(root: Path, records_file: Path = FIXTURE_JSON) -> Path:
    """`root/mathvista/testmini.json` (a copy of the fixture) with an image for each record."""
    folder = root / "mathvista"
    (folder / "images").mkdir(parents=True)
    shutil.copy(records_file, folder / "testmini.json")
    for pid in json.loads(records_file.read_text()):
        draw_image(folder / "images" / f"{pid}.jpg", COLOURS[pid])
    return root


def fixture_records() -> dict[str, dict[str, Any]]:
    return json.loads(FIXTURE_JSON.read_text())


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


# --- the loader -------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return make_data_dir(tmp_path / "data")


def test_fixture_loads_with_decoded_images(data_dir: Path) -> None:
    from PIL import Image

    docs = mathvista_utils().load(data_dir=str(data_dir))["test"]
    assert docs["problem_id"] == [f"mathvista-{pid}" for pid in FREE_FORM_PIDS]  # free-form only
    records = fixture_records()
    for doc in docs:
        pid = doc["problem_id"].removeprefix("mathvista-")
        assert isinstance(doc["image"], Image.Image)
        assert doc["image"].size == (48, 32)
        # The JPEG drawn for this record, not another one: its square has the record's colour.
        pixel = doc["image"].convert("RGB").getpixel((20, 16))
        assert all(abs(a - b) < 40 for a, b in zip(pixel, COLOURS[pid])), (pid, pixel)
        assert doc["passk_prompt"].startswith("<image>" + records[pid]["question"])
        assert doc["passk_prompt"].endswith(BOXED_INSTRUCTION)
        assert doc["answer"] == records[pid]["answer"]
        assert json.loads(doc["passk_record"])["answer_type"] == records[pid]["answer_type"]
    prompts = dict(zip(docs["problem_id"], docs["passk_prompt"]))
    assert "(Unit: cm)" in prompts["mathvista-15"]
    assert "The answer is a number with 1 decimal place." in prompts["mathvista-15"]
    assert "The answer is an integer." in prompts["mathvista-7"]


def test_question_types_add_multiple_choice(data_dir: Path) -> None:
    utils = mathvista_utils()
    both = utils.load(data_dir=str(data_dir), question_types=["free_form", "multi_choice"])["test"]
    assert sorted(both["problem_id"]) == sorted(f"mathvista-{pid}" for pid in COLOURS)
    (choice,) = [doc for doc in both if doc["problem_id"] == "mathvista-31"]
    assert "Choices:\n(A) 1\n(B) 2\n(C) 3" in choice["passk_prompt"]
    only_choice = utils.load(data_dir=str(data_dir), question_types=["multi_choice"])["test"]
    assert only_choice["problem_id"] == ["mathvista-31"]
    for bad in ([], ["open_ended"], "free_form"):
        with pytest.raises(ValueError, match="question_types"):
            utils.load(data_dir=str(data_dir), question_types=bad)


def test_missing_image_names_the_record(data_dir: Path) -> None:
    (data_dir / "mathvista" / "images" / "15.jpg").unlink()
    with pytest.raises(DataError, match=r"record 15: image .*15\.jpg not found"):
        mathvista_utils().load(data_dir=str(data_dir))


REAL_TESTMINI = SHARED_DATA / "mathvista" / "testmini.json"


@pytest.mark.skipif(not REAL_TESTMINI.is_file(), reason=f"real MathVista testmini absent ({REAL_TESTMINI})")
def test_every_real_free_form_problem_loads(tmp_path: Path) -> None:
    """The real testmini.json (linked into a tmp dir) with one blank JPEG for every pid."""
    from PIL import Image

    folder = tmp_path / "mathvista"
    (folder / "images").mkdir(parents=True)
    (folder / "testmini.json").symlink_to(REAL_TESTMINI)
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (8, 8), (255, 255, 255)).save(blank)
    records = json.loads(REAL_TESTMINI.read_text())
    for pid in records:
        (folder / "images" / f"{pid}.jpg").symlink_to(blank)

    docs = mathvista_utils().load(data_dir=str(tmp_path))["test"]
    free_form = {pid for pid, r in records.items() if r["question_type"] == "free_form"}
    assert len(free_form) == 460
    assert len(docs) == 460
    assert {doc_id.removeprefix("mathvista-") for doc_id in docs["problem_id"]} == free_form
    for doc in docs.select_columns(["problem_id", "answer", "passk_prompt", "passk_record"]):
        assert doc["answer"].strip(), doc["problem_id"]
        record = json.loads(doc["passk_record"])
        assert record["question_type"] == "free_form"
        assert doc["answer"] == str(records[record["pid"]]["answer"])
        assert doc["passk_prompt"].startswith("<image>")
    assert docs[0]["image"].size == (8, 8)


# --- the tiny vision-language model through lm-eval's hf-multimodal backend -------------


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))


@pytest.fixture(scope="module")
def vlm_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_data_dir(tmp_path_factory.mktemp("mathvista-data"))


@pytest.fixture(scope="module")
def cli_run(tiny_vlm: Path, vlm_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real `lm_eval --model hf-multimodal` run of mathvista_passk, n = 8, on all four
    fixture problems (free-form and multiple-choice)."""
    work = tmp_path_factory.mktemp("mathvista-run")
    result = run_lm_eval(
        lm_eval_args(
            "hf-multimodal", f"pretrained={tiny_vlm},dtype=float32", TASK,
            {"n": N, "data_dir": str(vlm_data_dir), "question_types": ["free_form", "multi_choice"]},
            work / "out",
            "--apply_chat_template", "--device", "cpu", "--batch_size", "8",
        ),
        env=offline_env(work / "raw"),
        cwd=work,
    )  # fmt: skip
    (results_file,) = (work / "out").rglob("results_*.json")
    (samples_file,) = (work / "out").rglob(f"samples_{TASK}_*.jsonl")
    return {
        "results": json.loads(results_file.read_text()),
        "samples": [json.loads(line) for line in samples_file.open()],
        "log": result.stdout + result.stderr,
    }


@pytest.mark.slow
def test_cli_logs_every_problem_with_n_graded_responses(cli_run: dict) -> None:
    rows = cli_run["samples"]
    assert sorted(row["doc"]["problem_id"] for row in rows) == sorted(f"mathvista-{p}" for p in COLOURS)
    for row in rows:
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        assert len(responses) == N and len(verdicts) == N
        decoded = [json.loads(v) for v in verdicts]
        assert row["n_samples"] == N
        assert row["n_correct"] == sum(v["correct"] for v in decoded)
    assert "Running generate_until requests with text+image input" in cli_run["log"]


@pytest.mark.slow
def test_cli_prompt_and_image_reach_the_backend(cli_run: dict, vlm_data_dir: Path) -> None:
    from lm_eval.utils import convert_pil_to_hash
    from PIL import Image

    records = fixture_records()
    hashes = set()
    for row in cli_run["samples"]:
        pid = row["doc"]["problem_id"].removeprefix("mathvista-")
        prompt, gen_kwargs, aux = row["arguments"]["gen_args_0"].values()
        # The tiny model's chat template: "<image>" from lm-eval's image part, then the text.
        assert prompt.startswith("user: <image> " + records[pid]["question"]), prompt
        assert prompt.endswith(BOXED_INSTRUCTION + "\nassistant: "), prompt
        assert prompt.count("<image>") == 1
        assert gen_kwargs["do_sample"] is True and gen_kwargs["temperature"] == 0.6
        # lm-eval logs each image of a request by the hash of its pixels (as PNG).
        with Image.open(vlm_data_dir / "mathvista" / "images" / f"{pid}.jpg") as image:
            expected = convert_pil_to_hash(image)
        assert aux == {"visual": [expected]}
        assert row["doc"]["image"] == expected
        hashes.add(expected)
    assert len(hashes) == len(COLOURS)
    (choice,) = [row for row in cli_run["samples"] if row["doc"]["problem_id"] == "mathvista-31"]
    assert "Choices:\n(A) 1\n(B) 2\n(C) 3" in choice["arguments"]["gen_args_0"]["arg_0"]


@pytest.mark.slow
def test_cli_pass_at_k_is_the_mean_estimator_and_verdicts_are_the_graders(cli_run: dict) -> None:
    rows = cli_run["samples"]
    records = fixture_records()
    results = cli_run["results"]["results"][TASK]
    counts = [row["n_correct"] for row in rows]
    for k in (1, 2, 4, 8):
        expected = sum(exact_pass_at_k(N, c, k) for c in counts) / len(counts)
        assert results[f"pass@{k},passk"] == pytest.approx(float(expected), abs=1e-12)
        for row in rows:
            per_problem = exact_pass_at_k(N, row["n_correct"], k)
            assert row[f"pass@{k}"] == pytest.approx(float(per_problem), abs=1e-12)
    assert "pass@16,passk" not in results
    passk = cli_run["results"]["configs"][TASK]["passk"]
    assert passk["problems"] == {
        row["doc"]["problem_id"]: {
            "n_samples": N, "n_correct": row["n_correct"], "identical": False,
            **asdict(count_duplicates(row["resps"][0])),
        }
        for row in rows
    }  # fmt: skip
    assert passk["sampling_degenerate"] is False
    assert passk["sampling_duplicated"] is False
    assert 0 < sum(counts) < N * len(rows)  # the tiny model gets some right and some wrong
    for row in rows:
        record = records[row["doc"]["problem_id"].removeprefix("mathvista-")]
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        for response, verdict in zip(responses, verdicts):
            assert json.loads(verdict) == grade("mathvista", response, record).to_dict(), response
    assert cli_run["results"]["configs"][TASK]["repeats"] == N


@pytest.mark.slow
def test_image_pixels_reach_the_language_model(
    tiny_vlm: Path, vlm_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, with hooks on the model's modules: the vision tower gets the processor's
    pixels of the fixture JPEGs, and the projected image features replace the image tokens
    in the embeddings the language model reads."""
    import torch
    from lm_eval import simple_evaluate
    from lm_eval.models.hf_vlms import HFMultimodalLM
    from PIL import Image
    from tiny_vlm import IMAGE_TOKENS

    env = offline_env(tmp_path / "raw")
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "LM_EVAL_PASSK_RAW_DIR"):
        monkeypatch.setenv(name, env[name])
    n = 2
    lm = HFMultimodalLM(pretrained=str(tiny_vlm), dtype="float32", device="cpu", batch_size=4)
    llava = lm.model.model
    seen: dict[str, list] = {"pixel_values": [], "input_ids": [], "projected": [], "embeds": []}

    # transformers 5 encodes the images before the prefill (`mm_encoder_outputs`), so the
    # pixels are caught where the vision tower reads them.
    def on_vision_tower(module, args, kwargs):
        pixels = args[0] if args else kwargs["pixel_values"]
        seen["pixel_values"].append(pixels.detach().clone())

    def on_llava(module, args, kwargs):
        input_ids = kwargs.get("input_ids")
        if input_ids is not None and input_ids.shape[1] > 1:  # a prefill, not a decoding step
            seen["input_ids"].append(input_ids.detach().clone())

    def on_projector(module, args, output):
        seen["projected"].append(output.detach().clone())

    def on_language_model(module, args, kwargs):
        embeds = kwargs["inputs_embeds"]
        if embeds.shape[1] > 1:
            seen["embeds"].append(embeds.detach().clone())

    hooks = [
        llava.vision_tower.register_forward_pre_hook(on_vision_tower, with_kwargs=True),
        llava.register_forward_pre_hook(on_llava, with_kwargs=True),
        llava.multi_modal_projector.register_forward_hook(on_projector),
        llava.language_model.register_forward_pre_hook(on_language_model, with_kwargs=True),
    ]
    try:
        out = simple_evaluate(
            model=lm,
            tasks=[TASK],
            metadata={"n": n, "data_dir": str(vlm_data_dir)},
            apply_chat_template=True,
            log_samples=True,
        )
    finally:
        for hook in hooks:
            hook.remove()
    assert len(out["samples"][TASK]) == len(FREE_FORM_PIDS)

    # One 32 x 32 image per request, n requests per problem.
    pixel_values = torch.cat(seen["pixel_values"])
    assert pixel_values.shape == (n * len(FREE_FORM_PIDS), 3, 32, 32)
    expected = {}
    for pid in FREE_FORM_PIDS:
        with Image.open(vlm_data_dir / "mathvista" / "images" / f"{pid}.jpg") as image:
            encoded = lm.processor.image_processor(images=[image], return_tensors="pt")
        expected[pid] = encoded["pixel_values"][0]
    matched = [
        [pid for pid, pixels in expected.items() if torch.allclose(row, pixels, atol=1e-5)]
        for row in pixel_values
    ]
    assert all(len(pids) == 1 for pids in matched), matched
    assert sorted(pid for (pid,) in matched) == sorted(FREE_FORM_PIDS * n)

    # Each prompt holds the image's tokens, and their embeddings are the projected features.
    image_token_id = lm.model.config.image_token_index
    assert len(seen["projected"]) == len(seen["pixel_values"]) == len(seen["input_ids"])
    assert len(seen["embeds"]) == len(seen["input_ids"])
    for input_ids, projected, embeds in zip(seen["input_ids"], seen["projected"], seen["embeds"]):
        mask = input_ids == image_token_id
        assert mask.sum(dim=1).tolist() == [IMAGE_TOKENS] * input_ids.shape[0]
        assert projected.shape[:2] == (input_ids.shape[0], IMAGE_TOKENS)
        torch.testing.assert_close(embeds[mask], projected.reshape(-1, projected.shape[-1]))
        # ...which differ from the image token's own embedding: the image replaced it.
        token_embedding = lm.model.get_input_embeddings().weight[image_token_id]
        assert not torch.allclose(embeds[mask][0], token_embedding)


# --- the same task through lm-eval's own vLLM multimodal backend (`vllm-vlm`) ----------

VLLM_STUB_DIR = Path(__file__).resolve().parent / "vllm_stub"
VLLM_N = 4
VLLM_MAX_MODEL_LEN = 17000
# The protocol, as lm_eval_passk/tasks/_common/_passk_template_yaml writes it.
UNTIL = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>"]
TINY_VLM_EOS = "</s>"  # tests/tiny_vlm.py; lm-eval adds the tokenizer's EOS to `stop`


@pytest.mark.slow
def test_vllm_vlm_backend_sends_text_prompts_with_the_problem_image(
    tiny_vlm: Path, vlm_data_dir: Path, tmp_path: Path
) -> None:
    """`lm_eval --model vllm-vlm` (lm_eval/models/vllm_vlms.py, run unchanged) on the
    stand-in `vllm` package (tests/vllm_stub; see tests/test_vllm_path.py): every request
    reaches `LLM.generate` as a TextPrompt whose text is the chat-templated problem and
    whose multi_modal_data["image"] holds that problem's own picture, with the protocol's
    SamplingParams. What this checks is what lm-eval hands a real vLLM engine; the stand-in
    runs no model (its answers are canned texts)."""
    from PIL import Image

    env = offline_env(tmp_path / "raw", extra_pythonpath=VLLM_STUB_DIR)
    log = tmp_path / "vllm_stub_log.jsonl"
    env["VLLM_STUB_LOG"] = str(log)
    run_lm_eval(
        lm_eval_args(
            "vllm-vlm", f"pretrained={tiny_vlm},max_model_len={VLLM_MAX_MODEL_LEN}", TASK,
            {"n": VLLM_N, "data_dir": str(vlm_data_dir)}, tmp_path / "out",
            "--apply_chat_template", "--batch_size", "auto",
        ),
        env=env,
        cwd=tmp_path,
    )  # fmt: skip
    records = [json.loads(line) for line in log.read_text().splitlines()]
    (init,) = [r for r in records if r["event"] == "init"]  # the stand-in engine, built once
    assert init["kwargs"]["model"] == str(tiny_vlm)
    assert init["kwargs"]["max_model_len"] == VLLM_MAX_MODEL_LEN
    requests = [r for r in records if r["event"] == "request"]

    # The pixels of the JPEG written for each problem, as PIL decodes it.
    fixture = fixture_records()
    image_md5 = {}
    for pid in FREE_FORM_PIDS:
        with Image.open(vlm_data_dir / "mathvista" / "images" / f"{pid}.jpg") as image:
            image_md5[pid] = hashlib.md5(image.tobytes()).hexdigest()
    assert len(set(image_md5.values())) == len(FREE_FORM_PIDS)

    # n separate requests per free-form problem, all in one generate call (batch_size auto).
    assert len(requests) == VLLM_N * len(FREE_FORM_PIDS)
    assert {r["call"] for r in requests} == {0}
    assert {r["prompts_in_call"] for r in requests} == {len(requests)}
    texts_by_pid: dict[str, list[str]] = {pid: [] for pid in FREE_FORM_PIDS}
    for request in requests:
        # A TextPrompt (text + multi_modal_data), not token ids: vLLM tokenises it and
        # expands the "<image>" the chat template wrote into the image's tokens.
        assert request["prompt_kind"] == "text"
        prompt = request["prompt_text"]
        (pid,) = [p for p in FREE_FORM_PIDS if fixture[p]["question"] in prompt]
        # The tiny model's chat template (via the HF processor): "<image> " for the image part.
        assert prompt.startswith("user: <image> " + fixture[pid]["question"]), prompt
        assert prompt.endswith(BOXED_INSTRUCTION + "\nassistant: "), prompt
        assert prompt.count("<image>") == 1
        # Exactly this problem's image, as a PIL image at its own size (lm-eval resizes
        # nothing without image_width / image_height / image_max_side).
        assert request["multi_modal_keys"] == ["image"]
        assert request["image_count"] == 1
        (image,) = request["images"]
        assert image["md5"] == image_md5[pid], (pid, image)
        assert image["size"] == [48, 32] and image["mode"] == "RGB"
        # The protocol's sampling: no do_sample, no per-request seed, one sample a request.
        params = request["sampling_params"]
        assert params["temperature"] == 0.6
        assert params["top_p"] == 0.95
        assert params["max_tokens"] == 16384
        assert set(params["stop"]) == set(UNTIL) | {TINY_VLM_EOS}, params["stop"]
        assert params.get("seed") is None, params
        assert params.get("n", 1) == 1
        assert "do_sample" not in params
        assert request["lora_request"] is None
        texts_by_pid[pid].append(request["text"])
    assert all(len(texts) == VLLM_N for texts in texts_by_pid.values()), texts_by_pid

    # The samples keep, for each problem, exactly the n texts the engine returned for the
    # requests that carried that problem's prompt and image.
    (samples_file,) = (tmp_path / "out").rglob(f"samples_{TASK}_*.jsonl")
    rows = [json.loads(line) for line in samples_file.read_text().splitlines() if line.strip()]
    assert sorted(row["doc"]["problem_id"] for row in rows) == sorted(f"mathvista-{p}" for p in FREE_FORM_PIDS)
    for row in rows:
        pid = row["doc"]["problem_id"].removeprefix("mathvista-")
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        assert len(responses) == VLLM_N and len(verdicts) == VLLM_N
        assert sorted(responses) == sorted(texts_by_pid[pid])
        assert row["n_samples"] == VLLM_N
        assert row["n_correct"] == sum(json.loads(v)["correct"] for v in verdicts)
