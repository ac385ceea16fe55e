"""compare on networks trained here: a small modadd run that groks (circuit found, matched to
x + y, phases detected), a lookup run (memorization verdict), and the CLI on both."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from compare import CompareResult, compare_run
from compare.match import MEMORIZATION
from synthcmp.cli import main
from taskcore.registry import get_task

P = 23
# Small and quick: at p = 23 there are only 529 pairs, so a larger training share than the
# paper's 30% is what makes the network generalize within a few hundred steps.
TRAIN = dict(train_frac=0.8, steps=1500, stop_after_grok=150, checkpoints=16)


def train_run(tmp_path_factory, name: str, **changes):
    from neural import default_config, train

    run_dir = tmp_path_factory.mktemp("runs") / f"{name}-{P}"
    result = train(get_task(name, p=P), default_config(**{**TRAIN, **changes}), run_dir=run_dir)
    return run_dir, result


@pytest.fixture(scope="module")
def modadd_run(tmp_path_factory):
    run_dir, result = train_run(tmp_path_factory, "modadd")
    assert result.grok_step is not None, "the fixture's run should grok; adjust TRAIN"
    return run_dir


WRONG = ("x + y + 1", "2*x + 2*y", "inv(x + y)", "x * y", "x + inv(y)")


@pytest.fixture(scope="module")
def modadd_result(modadd_run):
    return compare_run(modadd_run, top_k=3, user_programs=WRONG)


@pytest.fixture(scope="module")
def lookup_run(tmp_path_factory):
    run_dir, _ = train_run(
        tmp_path_factory, "lookup", steps=300, stop_after_grok=None, checkpoints=8
    )
    return run_dir


def test_trained_modadd_circuit_is_found_and_matched(modadd_result):
    c = modadd_result.circuit
    assert c.found and c.node == "x + y" and c.basis == "additive"
    assert 1 <= len(c.key_frequencies) <= 6
    assert c.faithfulness >= 0.95
    assert c.restricted_loss < c.chance_loss and c.excluded_loss > c.restricted_loss
    m = modadd_result.match
    assert m.implements and m.program == "x + y" and m.behaviour >= 0.99
    assert m.verdict.startswith("implements x + y")
    assert c.bits is not None and c.bits >= c.template_bits


def test_x_plus_y_outscores_every_wrong_program_on_every_measure(modadd_result):
    """The claim must be able to fail: near misses of x + y score clearly lower on behaviour,
    on the logit correlation and on the interchange interventions."""
    by_program = {r.program: r for r in modadd_result.candidates}
    right = by_program["x + y"]
    from synth import parse_program

    task = get_task("modadd", p=P)
    for text in WRONG:
        wrong = by_program[parse_program(text, task).to_text()]
        for score in ("behaviour", "logit_correlation", "intervention"):
            assert right.score(score) - wrong.score(score) >= 0.3, (text, score, wrong.scores)
    assert modadd_result.match.evidence == {"logit_correlation": True, "intervention": True}
    doc = modadd_result.to_json()
    for row in doc["candidates"]:  # every score oriented: higher means closer to the network
        assert set(row["scores"]) >= {"behaviour", "logit_correlation", "intervention"}


def test_description_length_falls_from_the_table_to_the_circuit(modadd_result):
    curve = modadd_result.dl_curve
    assert curve[0]["rung"] == "table" and curve[-1]["rung"] == "circuit"
    assert curve[-1]["bits"] < curve[0]["bits"] / 10
    for p in modadd_result.progress:  # the shorter code of the two, the circuit if found
        priced = not math.isnan(p.circuit_bits)
        faithful = p.n_key > 0 and p.faithfulness >= 0.9 and p.faithfulness_test >= 0.9
        assert faithful or not priced  # priced only where faithful, on the held-out pairs too
        assert p.bits == (min(p.circuit_bits, p.table_bits) if priced else p.table_bits)
        assert p.rung == ("circuit" if priced and p.circuit_bits < p.table_bits else "table")
    grok = modadd_result.phases.cleanup
    early = [p for p in modadd_result.progress if p.step < grok and p.test_acc < 0.5]
    assert all(p.rung == "table" for p in early)  # no short code while it only memorizes


def test_trained_modadd_progress_and_phases(modadd_run, modadd_result):
    from neural import load_run

    run = load_run(modadd_run)
    assert [p.step for p in modadd_result.progress] == run.checkpoint_steps
    phases = modadd_result.phases
    assert phases.memorization is not None and phases.cleanup is not None
    assert phases.circuit_formation is not None
    # ordered by definition
    assert phases.memorization <= phases.circuit_formation <= phases.cleanup
    assert (modadd_run / "synth.json").exists()  # the synthesizer's result is kept for next time


def test_result_round_trips_through_json(modadd_result):
    doc = modadd_result.to_json()
    again = CompareResult.from_json(json.loads(json.dumps(doc)))
    assert again.to_json() == doc


def test_lookup_is_memorization_with_no_phases_and_no_circuit_bits(lookup_run):
    result = compare_run(lookup_run, top_k=3)
    assert not result.match.implements and result.match.grade == "memorization"
    assert not any(result.match.evidence.values())  # no measure separates a table's program
    assert result.match.verdict.startswith(MEMORIZATION)
    assert result.match.program == "table"  # what it does implement: the memorized pairs
    assert not result.circuit.found and result.circuit.bits is None
    assert result.phases.circuit_formation is None and result.phases.cleanup is None
    assert all(p["rung"] == "table" for p in result.dl_curve)


def test_cli_json_has_the_documented_keys(modadd_run):
    out = CliRunner().invoke(main, ["compare", str(modadd_run), "--top", "3", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert set(doc["circuit"]) >= {
        "key_frequencies", "fve", "restricted_loss", "excluded_loss", "faithfulness", "bits",
    }  # fmt: skip
    assert set(doc["match"]) >= {"program", "behaviour", "grade", "evidence", "verdict"}
    assert set(doc["phases"]) == {"memorization", "circuit_formation", "cleanup", "note"}
    assert doc["match"]["program"] == "x + y"
    assert doc["candidates"] and doc["progress"] and doc["dl_curve"]
    assert {"step", "bits", "rung"} <= set(doc["dl_curve"][0])


def test_cli_text_report(modadd_run):
    out = CliRunner().invoke(
        main, ["compare", str(modadd_run), "--top", "3"], env={"COLUMNS": "100"}
    )
    assert out.exit_code == 0, out.output
    assert "implements x + y" in out.stdout
    assert all(len(line) <= 100 for line in out.stdout.splitlines())


def test_cli_user_mistakes_are_one_line(tmp_path):
    out = CliRunner().invoke(main, ["compare", str(tmp_path)])
    assert out.exit_code == 2
    assert out.stderr.strip().count("\n") == 0 and "not a run folder" in out.stderr
    out = CliRunner().invoke(main, ["compare", str(tmp_path / "missing")])
    assert out.exit_code == 2
    out = CliRunner().invoke(main, ["compare", str(tmp_path), "--top", "0"])
    assert out.exit_code == 2 and "--top" in out.stderr


def test_imports_stay_light_and_layered():
    """The CLI starts without torch; compare reads the task core, never the shell."""
    import subprocess
    import sys

    light = "import sys, synthcmp.cli; assert 'torch' not in sys.modules"
    layered = (
        "import sys, compare, compare.circuit, compare.match, compare.progress, "
        "compare.network, compare.handbuilt; "
        "bad = [m for m in sys.modules if m in ('synthcmp.ui', 'synthcmp.cli') "
        "or m.startswith(('synthcmp.commands', 'rich', 'click'))]; assert not bad, bad"
    )
    for code in (light, layered):
        subprocess.run([sys.executable, "-c", code], check=True)


def test_a_loaded_run_is_compared_under_its_folders_name(modadd_run):
    """compare_run takes a folder or a loaded run; either way run_dir is the folder."""
    from neural import load_run

    result = compare_run(load_run(modadd_run), top_k=1, progress=False)
    assert result.run_dir == str(modadd_run)


# -- λ̂ over training (compare.llc) -------------------------------------------------------

LLC_COUNT = 5


@pytest.fixture(scope="module")
def llc_results(modadd_run, lookup_run):
    """compare --llc on both runs, at a few checkpoints, with the calibrated sampler."""
    from neural.llc import LLCConfig

    return {name: compare_run(run, top_k=1, llc=LLCConfig(), llc_checkpoints=LLC_COUNT)
            for name, run in (("modadd", modadd_run), ("lookup", lookup_run))}  # fmt: skip


def test_final_llc_of_random_labels_exceeds_that_of_the_program(llc_results):
    """Same architecture, same n: the network that memorized a random table sits where more
    directions of its weights matter than the one that found x + y — by the estimator's own
    numbers, both trusted."""
    modadd, lookup = llc_results["modadd"].llc[-1], llc_results["lookup"].llc[-1]
    assert modadd.n == lookup.n
    assert modadd.trusted and lookup.trusted, (modadd.warnings, lookup.warnings)
    assert lookup.llc > modadd.llc > 0


def test_llc_falls_after_memorization_far_more_when_the_network_groks(llc_results):
    """From the checkpoint nearest the end of memorization to the last one, λ̂ falls by far
    more for the network that found x + y than for the one holding random labels (weight
    decay shrinks that one too, but there is no short program to fall to)."""
    ratio = {}
    for name, result in llc_results.items():
        memorized = result.phases.memorization
        at_memorization = min(result.llc, key=lambda p, m=memorized: abs(p.step - m))
        assert at_memorization.trusted and result.llc[-1].trusted
        assert abs(at_memorization.step - memorized) <= 10, "a checkpoint near memorization"
        ratio[name] = result.llc[-1].llc / at_memorization.llc
    assert ratio["modadd"] < ratio["lookup"] / 4, ratio


def test_llc_checkpoints_include_the_phases_tables_columns(llc_results, modadd_run):
    from neural.store import load_run
    from taskcore.events import phase_columns

    result = llc_results["modadd"]
    steps = [p.step for p in result.llc]
    run = load_run(modadd_run)
    columns = [s for s, _ in phase_columns(run.checkpoint_steps, result.phases.to_json())]
    assert set(columns) <= set(steps) and len(steps) == LLC_COUNT
    assert steps == sorted(steps) and steps[-1] == run.checkpoint_steps[-1]
    assert result.llc_config is not None and "llc" in result.seconds


def test_llc_round_trips_through_json_with_its_diagnostics(llc_results):
    document = llc_results["lookup"].to_json()
    point = document["llc"][-1]
    assert {"step", "llc", "llc_chains", "llc_half", "loss_start", "nbeta", "traces", "warnings",
            "trusted"} <= set(point)  # fmt: skip
    assert len(point["traces"]) == document["llc_config"]["chains"]
    back = CompareResult.from_json(document)
    assert back.llc == llc_results["lookup"].llc


def test_without_llc_nothing_is_estimated(modadd_result):
    assert modadd_result.llc == [] and modadd_result.llc_config is None
    assert "llc" not in modadd_result.seconds


def test_cli_compare_llc_prints_the_row_and_the_settings(modadd_run):
    result = CliRunner().invoke(main, ["compare", str(modadd_run), "--top", "1", "--llc",
                                       "--llc-checkpoints", "3", "--llc-draws", "10",
                                       "--llc-burnin", "5"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "λ̂ " in result.output and "2 chains × 10 draws after 5 steps" in result.output
    assert "local learning coefficient" in result.output  # the row's legend
    document = json.loads(CliRunner().invoke(main, ["compare", str(modadd_run), "--top", "1",
                                                    "--json", "--llc-checkpoints", "2",
                                                    "--llc-draws", "4"]).output)  # fmt: skip
    assert len(document["llc"]) == 2 and document["llc_config"]["draws"] == 4
