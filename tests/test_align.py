"""``synthcmp align`` end to end on tiny tasks, its verdict's ability to say no, and every user
mistake as one ``Error:`` line (exit 2, no traceback, nothing made or changed)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import assert_one_error_line, invoke, snapshot

from compare.similarity import LOGITS, Alignment
from compare.universality import AlignResult, RunReport
from compare.universality_verdict import conclusion, verdict_lines
from neural import default_config, load_run, train
from synthcmp.render.align import render_align
from taskcore.registry import get_task

# p = 17 with 80% of the pairs: both models grok in a few hundred steps
GROKS = ["modadd", "--p", "17", "--frac", "0.8", "--workers", "1"]


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    """Two seeds of each model on modadd p = 17, aligned once (with plots)."""
    root = tmp_path_factory.mktemp("align")
    done = invoke("align", *GROKS, "--seeds", "2", "--out", root / "al", "--json")
    assert done.exit_code == 0, (done.output, done.exception)
    return root / "al", json.loads(done.stdout)


def test_align_reports_each_run_its_alignments_with_baselines_and_a_verdict(aligned):
    folder, doc = aligned
    assert [(r["model"], r["seed"]) for r in doc["runs"]] == [
        ("transformer", 0), ("transformer", 1), ("mlp", 0), ("mlp", 1)]
    for r in doc["runs"]:
        assert set(r) >= {"model", "seed", "grokked", "program", "key_frequencies", "algorithm"}
        assert r["grokked"], r  # p = 17 on 80% groks in every seed of both models
        assert r["program"] == "x + y" and r["key_frequencies"]
        # the transformer reads Clock; the MLP's two embedding tables are not read at all
        assert r["algorithm"] == ("clock" if r["model"] == "transformer" else ""), r
        assert r["model"] == "transformer" or "two separate embedding tables" in r["algorithm_why"]
    layers = {(a["layer"], a["metric"]) for a in doc["alignment"]}
    assert ("logits", "cka") in layers and ("embed.x", "mutual_knn") in layers
    assert ("attn.out", "cka") in layers  # a transformer-only layer, across its runs
    for a in doc["alignment"]:
        size = len(a["runs"])
        assert np.shape(a["matrix"]) == np.shape(a["baseline"]) == (size, size)
        assert a["baseline_mean"] is not None
    assert doc["verdict"][0].startswith("Every run implements x + y (2/2 transformer, 2/2 mlp)")
    assert json.loads((folder / "align.json").read_text())["verdict"] == doc["verdict"]
    for name in ("alignment.png", "frequencies.png", "clockpizza.png"):
        assert (folder / name).stat().st_size > 10_000


def test_a_group_task_is_aligned_by_its_irreps_without_clock_or_pizza(tmp_path):
    """S4 (24 symbols): the key sets are named irreps, Clock and Pizza do not apply, and no
    empty Clock/Pizza figure is drawn."""
    done = invoke("align", "s4mul", "--seeds", "2", "--models", "mlp", "--out", tmp_path / "g",
                  "--json")  # fmt: skip
    assert done.exit_code == 0, (done.output, done.exception)
    doc = json.loads(done.stdout)
    grokked = [r for r in doc["runs"] if r["grokked"]]
    assert grokked, "the MLP groks S4 in a few hundred steps"
    for r in grokked:
        assert r["program"] == "x * y" and r["algorithm"] == ""
        assert len(r["key_names"]) == len(r["key_frequencies"]) > 0
    assert "Clock" not in doc["verdict"][0] and "key irreps" in " ".join(doc["verdict"])
    assert not (tmp_path / "g" / "clockpizza.png").exists()
    assert (tmp_path / "g" / "frequencies.png").exists()


def test_each_trained_seed_is_an_ordinary_run_folder(aligned):
    folder, doc = aligned
    for r in doc["runs"]:
        run = load_run(r["run_dir"])
        assert run.config.seed == r["seed"] and run.config.model.kind == r["model"]
        assert run.summary["grok_step"] == r["grok_step"]
    done = invoke("compare", doc["runs"][0]["run_dir"], "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["match"]["program"] == doc["runs"][0]["program"]


def test_runs_are_aligned_again_from_their_folder_with_the_same_answers(aligned, tmp_path):
    folder, doc = aligned
    done = invoke("align", "--runs", folder, "--out", tmp_path / "again", "--no-plots",
                  "--workers", "1", "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    again = json.loads(done.stdout)
    mine = {(r["model"], r["seed"]): (r["program"], r["key_frequencies"], r["algorithm"])
            for r in doc["runs"]}  # fmt: skip
    theirs = {(r["model"], r["seed"]): (r["program"], r["key_frequencies"], r["algorithm"])
              for r in again["runs"]}  # fmt: skip
    assert mine == theirs


def test_the_report_fits_80_columns_and_cuts_nothing(aligned):
    from rich.console import Console

    _, doc = aligned
    console = Console(width=80, record=True, force_terminal=False)
    render_align(doc, console)
    text = console.export_text()
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    flowing = " ".join(text.replace("│", " ").split())  # legends wrap between words
    for term in ("CKA", "mutual k-NN", "baseline", "distance irrelevance", "Clock", "node share"):
        assert term in flowing


def test_a_lookup_table_gives_a_negative_verdict(tmp_path):
    done = invoke("align", "lookup", "--p", "11", "--seeds", "2", "--models", "mlp", "--steps",
                  "150", "--workers", "1", "--no-plots", "--out", tmp_path / "lk", "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["verdict"][0].startswith("No universality to test: 0 of 2 runs implement")
    assert doc["node"] == "" and all(r["program"] == "" for r in doc["runs"])
    assert all(r["algorithm"] == "" for r in doc["runs"])  # no Clock read into noise
    assert doc["alignment"] and all(len(a["baseline"]) == len(a["runs"]) for a in doc["alignment"])


def report(index, model, program, freqs, algorithm="clock", grokked=True) -> RunReport:
    return RunReport(index, f"r{index}", model, index, grokked, 100 if grokked else None, 1.0,
                     program, "implements" if program else "memorization", "", freqs, 0.9,
                     1.0, "x + y" if program else "", algorithm, 0.9, 0.1)  # fmt: skip


def result(runs: list[RunReport], chance: float = 0.1, logits_cka: float | None = None) -> AlignResult:
    with_sets = [r.index for r in runs if r.key_frequencies]
    J = np.array([[len(set(runs[i].key_frequencies) & set(runs[j].key_frequencies))
                   / len(set(runs[i].key_frequencies) | set(runs[j].key_frequencies))
                   for j in with_sets] for i in with_sets])  # fmt: skip
    freq = Alignment.of("key frequencies", "jaccard", with_sets, J, J * 0 + chance,
                        [runs[i].model for i in with_sets])  # fmt: skip
    models = list(dict.fromkeys(r.model for r in runs))
    alignment = []
    if logits_cka is not None:  # every pair of runs at this CKA, the shuffled baseline at 0
        idx = [r.index for r in runs]
        cka = np.full((len(idx), len(idx)), logits_cka)
        np.fill_diagonal(cka, 1.0)
        alignment.append(Alignment.of(LOGITS, "cka", idx, cka, cka * 0,
                                      [r.model for r in runs]))  # fmt: skip
    return AlignResult("modadd", 59, models, runs, alignment, freq, "x + y", "", [], 29)


def with_node_share(r: RunReport, share: float) -> RunReport:
    return dataclasses.replace(r, node_share={LOGITS: share}, node_share_baseline={LOGITS: 0.02})


def test_same_algorithm_on_different_features_is_said_only_when_both_halves_hold():
    own = [report(i, "mlp", "x + y", [3 + 5 * i, 4 + 5 * i]) for i in range(3)]
    held = [with_node_share(r, 0.95) for r in own]
    said = conclusion(result(held, logits_cka=0.1))
    assert "the same algorithm on different features" in said
    # the logits' variance is not a function of u in one run: the node does not hold
    weak = held[:2] + [with_node_share(own[2], 0.4)]
    assert "same algorithm" not in conclusion(result(weak, logits_cka=0.1))
    # the raw logits align well above their baseline: the features do not differ
    aligned = conclusion(result(held, logits_cka=0.9))
    assert "same algorithm" not in aligned and "the logits align (CKA 0.90" in aligned


def test_the_conclusion_follows_the_numbers():
    same = [report(i, "mlp", "x + y", [3, 7]) for i in range(3)]
    assert "largely share" in conclusion(result(same))
    own = [report(i, "mlp", "x + y", [3 + 5 * i, 4 + 5 * i]) for i in range(3)]
    assert "each seed picks its own" in conclusion(result(own))
    split = own[:2] + [report(2, "mlp", "x - y", [9])]
    assert conclusion(result(split)).startswith("Runs disagree: 2/3 implement x + y")
    memorized = [report(i, "mlp", "", [], algorithm="", grokked=False) for i in range(3)]
    memorized[0] = report(0, "mlp", "x + y", [2])
    assert conclusion(result(memorized)).startswith("No universality to test: 1 of 3")
    lines = verdict_lines(result(own))
    assert lines[1].startswith("mlp: 3/3 grokked; 3/3 implement x + y")


def test_sets_that_overlap_only_as_much_as_random_ones_are_not_called_shared():
    """S4 has four non-trivial irreps: random sets of three overlap by ~0.6, so a Jaccard of
    0.6 is no evidence that the seeds agree."""
    same = [report(i, "mlp", "x * y", [1, 2, 3]) for i in range(3)]
    said = conclusion(result(same, chance=0.95))
    assert "largely share" not in said and "no more than random sets" in said
    assert "no more than random sets" in verdict_lines(result(same, chance=0.95))[1]


# ---------------------------------------------------------------------------------------
# User mistakes


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two tiny modadd runs and one lookup run (p = 11)."""
    root = tmp_path_factory.mktemp("runs")
    tiny = dict(steps=10, train_frac=0.5, d_model=16, d_mlp=32, log_every=5, checkpoints=3)
    for name, task, seed in (("a", "modadd", 0), ("b", "modadd", 1), ("lk", "lookup", 0)):
        train(get_task(task, p=11), default_config("mlp", seed=seed, **tiny), run_dir=root / name)
    return root


@pytest.fixture
def place(tmp_path, monkeypatch, runs) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b", "lk"):
        shutil.copytree(runs / name, tmp_path / name)
    (tmp_path / "empty").mkdir()
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.tex").write_text("...")
    return tmp_path


MISTAKES = [
    (["modadd", "--p", "11", "--seeds", "0"], "--seeds must be in"),
    (["modadd", "--p", "11", "--seeds", "1", "--models", "mlp"], "at least 2 runs"),
    (["modadd", "--models", "cnn"], "--models must be"),
    (["modadd", "--models", "mlp,mlp"], "twice"),
    (["modadd", "--models", ","], "--models must be"),
    (["modadd", "--runs", "a", "--runs", "b"], "TASK does not apply"),
    (["--runs", "a", "--runs", "b", "--seeds", "3"], "--seeds"),
    (["--runs", "a", "--runs", "b", "--noise", "0.1"], "--noise"),
    (["--runs", "a", "--runs", "b", "--table", "t.csv"], "--table does not apply"),
    (["modadd", "--noise", "2"], "noise"),
    (["--runs", "nope"], "no such folder"),
    (["--runs", "a"], "at least 2 runs"),
    (["--runs", "a", "--runs", "a"], "at least 2 runs"),
    (["--runs", "empty"], "neither a run folder"),
    (["--runs", "a", "--runs", "lk"], "one task"),
    (["modadd", "--top", "0"], "--top"),
    (["modadd", "--workers", "0"], "--workers"),
    (["modadd", "--frac", "1.5"], "--frac"),
    (["modadd", "--steps", "-1"], "--steps"),
    (["modadd", "--lr", "-1"], "--lr"),
    (["modad"], "modad"),
    (["modadd", "--p", "1"], "p"),
    (["modadd", "--seed", "-1"], "seed"),
    ([], "task"),
    (["modadd", "--p", "11", "--out", "thesis"], "already exists"),
    (["modadd", "--p", "11", "--out", "thesis", "--force"], "not a synthcmp align folder"),
    (["modadd", "--seeds", "x"], "--seeds"),
]
if not torch.cuda.is_available():
    MISTAKES.append((["modadd", "--device", "cuda"], "cuda"))


@pytest.mark.parametrize("args,words", MISTAKES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_every_mistake_is_one_error_line_and_changes_nothing(place, args, words):
    before = snapshot(place)
    done = invoke("align", *args)
    assert_one_error_line(done, words, alone=False)
    assert snapshot(place) == before
