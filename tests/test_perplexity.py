"""`lm-eval-passk perplexity`: each response's perplexity under a model, through lm-eval's
hf model on the tiny random model, checked against transformers on the same tokens; resume
after a kill; truncation flags; the report and compare sections and figure."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lm_eval_passk.cli import main
from lm_eval_passk.run_format import (
    GradingSettings,
    perplexity_path,
    read_perplexities,
    samples_files,
)

DATE = "2025-05-06T07-08-09.000010"
PREFIX = " The answer "  # the response prefix the run records: part of the context
# Two runs of three problems x four responses over the tiny model's vocabulary; one response
# is empty (not scored) and one is long (the max_length test cuts its prompt, or all of it).
LONG = " ".join(["so we get 1 ."] * 12)  # 60 tokens
RUNS = {
    "base": [["is 1 .", "is 2 . so we get \\boxed{2}", "", "is \\boxed{3}"],
             ["is 3", "is 2 .", "is 1 . so 1", LONG],
             ["so 2", "is \\boxed{1} .", "we get 3 .", "is 3 ."]],
    "rl": [["is 1 . 1 . 1 .", "is 1", "is 1 .", "is 1 ."],
           ["is 2", "is 2 .", "is 2 .", "is 2 2"],
           ["so 3", "is 3", "is 3 . 3", "is \\boxed{3} ."]],
}  # fmt: skip


def write_run(directory: Path, name: str) -> Path:
    """A run of our toy task as lm-eval writes it: a samples file and its results file,
    whose passk block records the response prefix."""
    folder = directory / name / f"org__{name}"
    folder.mkdir(parents=True)
    with (folder / f"samples_toy_passk_{DATE}.jsonl").open("w") as file:
        for index, responses in enumerate(RUNS[name]):
            verdicts = [json.dumps({"correct": "boxed" in r, "answer": "", "reason": ""}) for r in responses]
            doc = {"problem_id": f"p{index}", "problem": "?", "answer": "1", "solution": "",
                   "passk_prompt": f"So we get {index + 1} . The answer is {index + 1} ."}
            row = {"doc_id": index, "doc": doc, "target": "1", "resps": [responses], "filtered_resps": [verdicts]}
            file.write(json.dumps(row) + "\n")
    block = {"n": 4, **GradingSettings("math500", response_prefix=PREFIX).to_dict()}
    results = {"model_name": f"org/{name}", "configs": {"toy_passk": {"passk": block}}}
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    return directory / name


@pytest.fixture(scope="module")
def hf_lm(tiny_model: Path):
    """lm-eval's hf model over the tiny model, built once with lm-eval's registry."""
    from lm_eval.api.registry import get_model

    return get_model("hf").create_from_arg_string(
        f"pretrained={tiny_model},dtype=float32", {"batch_size": 4, "device": "cpu"}
    )


@pytest.fixture(scope="module")
def transformers_model(tiny_model: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model, torch_dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(tiny_model)


def direct(model_and_tokenizer, context: str, response: str, max_length: int | None = None) -> tuple[int, float]:
    """(tokens, mean NLL) of `response` after `context`, straight from transformers: the
    context's tokens, then the tokens of context + response past as many (lm-eval's split,
    whatever merges across the boundary), the input cut from the left to max_length + 1
    tokens as lm-eval's hf model cuts it."""
    import torch

    model, tokenizer = model_and_tokenizer
    context_ids = tokenizer(context, add_special_tokens=False).input_ids
    whole = tokenizer(context + response, add_special_tokens=False).input_ids
    count = len(whole) - len(context_ids)
    whole = context_ids + whole[len(context_ids):]
    if max_length is not None:
        whole = whole[-(max_length + 1):]
    with torch.no_grad():
        logits = model(torch.tensor([whole[:-1]])).logits[0].double()
    logprobs = torch.log_softmax(logits, dim=-1)[-count:]
    targets = torch.tensor(whole[-count:])
    return count, -float(logprobs.gather(1, targets[:, None]).mean())


def entries_by_key(run: Path) -> dict[tuple[str, int], dict]:
    (samples,) = samples_files(run).values()
    entries = []
    for line in perplexity_path(samples.path).read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            assert not line.endswith("}"), "only a line cut short may be unreadable"
    keys = [(e["problem_id"], e["response"]) for e in entries]
    assert len(keys) == len(set(keys)), "a response scored twice"
    return {(e["problem_id"], e["response"]): e for e in entries}


def test_values_equal_transformers_on_the_same_tokens(tmp_path, tiny_model, hf_lm, transformers_model, capsys) -> None:
    from lm_eval_passk.perplexity.score import score_run

    run = write_run(tmp_path, "base")
    stats = score_run(run, hf_lm, scorer="tiny")["toy_passk"]
    assert (stats.requested, stats.not_scored, stats.truncated_prompt) == (11, 1, 0)
    entries = entries_by_key(run)
    assert len(entries) == 12
    for index, responses in enumerate(RUNS["base"]):
        context = f"So we get {index + 1} . The answer is {index + 1} ." + PREFIX
        for r, response in enumerate(responses):
            entry = entries[(f"p{index}", r)]
            assert entry["scorer"] == "tiny" and entry["truncated"] is None
            if not response:  # nothing to score: no value, not a made-up one
                assert (entry["tokens"], entry["nll"], entry["perplexity"]) == (0, None, None)
                continue
            tokens, nll = direct(transformers_model, context, response)
            assert entry["tokens"] == tokens
            assert entry["nll"] == pytest.approx(nll, rel=1e-4)
            assert entry["perplexity"] == pytest.approx(math.exp(nll), rel=1e-4)
    # A rerun finds everything done and asks the model for nothing.
    again = score_run(run, hf_lm, scorer="tiny")["toy_passk"]
    assert (again.requested, again.already_done) == (0, 12)


def test_long_responses_are_flagged_never_silently_cut(tmp_path, tiny_model, transformers_model) -> None:
    from lm_eval.api.registry import get_model

    from lm_eval_passk.perplexity.score import score_run

    run = write_run(tmp_path, "base")
    for max_length, flag in ((64, "prompt"), (40, "response")):
        lm = get_model("hf").create_from_arg_string(
            f"pretrained={tiny_model},dtype=float32,max_length={max_length}", {"batch_size": 4, "device": "cpu"}
        )
        score_run(run, lm, scorer=f"max{max_length}")
        entries = [e for e in read_perplexities(samples_files(run)["toy_passk"].path) if e.key.scorer == f"max{max_length}"]
        long = next(e for e in entries if e.key == e.key.__class__(f"max{max_length}", "p1", 3))
        assert long.truncated == flag
        assert all(e.truncated is None for e in entries if e is not long)
        if flag == "prompt":  # the prompt cut from the left, as lm-eval cuts it
            tokens, nll = direct(transformers_model, "So we get 2 . The answer is 2 ." + PREFIX, LONG, max_length)
            assert (long.tokens, long.nll) == (tokens, pytest.approx(nll, rel=1e-4))
        else:  # 60 tokens do not fit in 40: not scored, but counted
            assert (long.tokens, long.nll) == (60, None)


class Counting:
    """Wraps an lm-eval LM: counts the responses it is asked to score; can stop after
    `calls` loglikelihood calls as a kill would (KeyboardInterrupt)."""

    def __init__(self, lm, calls: int | None = None) -> None:
        self.lm, self.calls, self.asked = lm, calls, []

    def __getattr__(self, name):
        return getattr(self.lm, name)

    def loglikelihood(self, instances):
        if self.calls is not None and self.calls == 0:
            raise KeyboardInterrupt
        if self.calls is not None:
            self.calls -= 1
        self.asked += [instance.args[1] for instance in instances]
        return self.lm.loglikelihood(instances)


def test_a_killed_run_resumes_without_scoring_anything_twice(tmp_path, hf_lm, monkeypatch) -> None:
    from lm_eval_passk.perplexity import score

    run = write_run(tmp_path, "rl")
    monkeypatch.setattr(score, "CHUNK", 5)
    first = Counting(hf_lm, calls=1)
    with pytest.raises(KeyboardInterrupt):  # killed while waiting for the second chunk
        score.score_run(run, first, scorer="tiny")
    assert len(first.asked) == 5 and len(entries_by_key(run)) == 5
    # A kill in the middle of writing: the last line cut short is ignored, and rescored.
    path = perplexity_path(samples_files(run)["toy_passk"].path)
    path.write_text(path.read_text()[:-20])
    second = Counting(hf_lm)
    stats = score.score_run(run, second, scorer="tiny")["toy_passk"]
    assert (stats.requested, stats.already_done) == (8, 4)
    assert len(second.asked) == 8
    assert len(entries_by_key(run)) == 12  # every response once, the cut line excepted
    assert len(path.read_text().splitlines()) == 13


def test_a_seeded_sample_per_problem_and_a_model_without_tokens(tmp_path, hf_lm) -> None:
    from lm_eval_passk.perplexity.score import score_run

    run = write_run(tmp_path, "rl")
    score_run(run, hf_lm, scorer="tiny", per_problem=2, seed=3)
    first = entries_by_key(run)
    assert sorted(p for p, _ in first) == ["p0", "p0", "p1", "p1", "p2", "p2"]
    score_run(run, hf_lm, scorer="tiny", per_problem=2, seed=3)  # the same draw: nothing new
    assert entries_by_key(run).keys() == first.keys()

    class NoTokens:  # an LM with loglikelihood but no token counts (not a TemplateLM)
        def set_cache_hook(self, hook) -> None:
            pass

        def loglikelihood(self, instances):
            raise AssertionError("not to be called")

    with pytest.raises(ValueError, match="NoTokens has no _encode_pair"):
        score_run(run, NoTokens(), scorer="other")


def test_report_and_compare_show_the_distribution_and_draw_it(tmp_path, tiny_model, capsys) -> None:
    base, rl = write_run(tmp_path, "base"), write_run(tmp_path, "rl")
    model_args = f"pretrained={tiny_model},dtype=float32"
    for run in (base, rl):  # the real command, as a user runs it
        assert main(["perplexity", str(run), "--model", "hf", "--model_args", model_args,
                     "--batch_size", "4", "--device", "cpu", "--scorer_name", "base-model"]) == 0
    assert "11 responses scored" in capsys.readouterr().out

    out = tmp_path / "compare"
    assert main(["compare", str(base), str(rl), "--format", "json", "--out", str(out)]) == 0
    task = json.loads(capsys.readouterr().out)["tasks"]["toy_passk"]
    for side, responses in (("base", 11), ("rl", 12)):
        summary = task[side]["perplexity"]["base-model"]
        assert summary["responses"] == responses
        assert summary["q1"] <= summary["median"] <= summary["q3"]
    png = (out / "perplexity_toy_passk.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and (out / "perplexity_toy_passk.svg").exists()
    csv = (out / "compare_perplexity.csv").read_text().splitlines()
    assert csv[0].startswith("task,run,model,scorer,responses") and len(csv) == 3

    assert main(["report", str(base), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "toy_passk: perplexity of each run's responses under each scoring model" in text
    assert "| org/base | base-model | 11 |" in text


def test_analysis_and_the_scorer_import_only_downwards() -> None:
    from test_run_format import imports_of

    scorer = {m for modules in imports_of("perplexity").values() for m in modules}
    assert not {m for m in scorer if m.startswith(("lm_eval_passk.analysis", "lm_eval_passk.judge"))}
    analysis = {m for modules in imports_of("analysis").values() for m in modules}
    assert not {m for m in analysis if m.startswith(("lm_eval_passk.perplexity", "lm_eval."))}
