"""`synthcmp run` end to end on a small modulus: report.json, the plots, the HTML page, the
terminal report, interruption, and every user mistake as one clean line."""

from __future__ import annotations

import json
import shlex

import pytest
from cli_helpers import invoke

from synthcmp.pipeline import PLOTS

# p = 23 has only 529 pairs: with 80% of them for training the defaults grok in a few hundred
# steps, which keeps this test to seconds.
QUICK = ["--p", "23", "--frac", "0.8", "--steps", "1500", "--top", "3"]
LLC = ["--llc-checkpoints", "4", "--llc-draws", "10", "--llc-burnin", "5"]  # --llc, quickly
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def modadd(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    run_dir, html = root / "modadd", root / "report.html"
    result = invoke("run", "modadd", *QUICK, *LLC, "--out", str(run_dir), "--html", str(html),
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    return run_dir, html, json.loads(result.stdout)


def test_llc_is_estimated_at_the_checkpoints_asked_for(modadd):
    _, _, report = modadd
    llc = report["compare"]["llc"]
    assert len(llc) == 4 and report["compare"]["llc_config"]["draws"] == 10
    assert all(len(trace) == 15 for p in llc for trace in p["traces"])


def test_report_holds_each_commands_document(modadd):
    run_dir, _, report = modadd
    assert json.loads((run_dir / "report.json").read_text()) == report
    assert {"task", "synth", "train", "compare", "ladder", "plots"} <= set(report)
    # the same documents that `synthcmp synth/train/compare --json` print
    assert report["train"] == json.loads((run_dir / "summary.json").read_text())
    assert report["synth"] == json.loads((run_dir / "synth.json").read_text())
    assert {"circuit", "match", "phases"} <= set(report["compare"])
    task = report["task"]
    assert task["name"] == "modadd" and task["n"] == 23
    assert task["n_train"] + task["n_test"] == 529 and task["n_train"] == round(0.8 * 529)


def test_grokked_run_is_matched_to_x_plus_y(modadd):
    _, _, report = modadd
    assert report["synth"]["programs"][0]["expr"] == "x + y"
    assert report["train"]["grok_step"] is not None
    match = report["compare"]["match"]
    assert match["program"] == "x + y" and match["implements"]
    assert match["behaviour"] >= 0.99


def test_ladder_orders_program_circuit_table_weights(modadd):
    _, _, report = modadd
    rungs = {r["rung"]: r["bits"] for r in report["ladder"]}
    assert list(rungs) == [
        "shortest program",
        "extracted circuit",
        "memorized table",
        "raw parameters",
    ]
    assert rungs["shortest program"] < rungs["memorized table"] < rungs["raw parameters"]
    assert rungs["extracted circuit"] < rungs["memorized table"]


def test_plots_are_real_pngs(modadd):
    run_dir, _, report = modadd
    assert set(report["plots"]) == set(PLOTS)
    for name in report["plots"].values():
        data = (run_dir / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, name


def test_html_is_self_contained(modadd):
    _, html, report = modadd
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert page.count("data:image/png;base64,") == len(report["plots"])
    assert "description-length ladder" in page and "x + y" in page
    assert "The SGLD chains behind λ̂" in page and "λ̂ " in page
    assert 'src="http' not in page and "<link" not in page  # nothing fetched from elsewhere


def test_terminal_report_on_lookup_says_memorization(tmp_path):
    result = invoke("run", "lookup", "--p", "11", "--frac", "0.5", "--steps", "150",
                    "--out", str(tmp_path / "lookup"), "--no-plots")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    for title in ("1 · task", "2 · the shortest programs", "3 · training", "4 · the circuit",
                  "5 · the match", "6 · description-length ladder", "7 · phases"):  # fmt: skip
        assert title in out, title
    assert "memorization" in out
    assert "Not grokked" not in result.stderr  # memorizing is the right answer: no advice
    assert "evidence of how" not in out  # nothing is named as evidence for a table
    assert not any(tmp_path.joinpath("lookup").glob("*.png"))
    report = json.loads((tmp_path / "lookup" / "report.json").read_text())
    assert report["synth"]["programs"][0]["kind"] == "table"  # MDL: no program beats the table
    assert not report["compare"]["match"]["implements"]
    circuit_rung = next(r for r in report["ladder"] if r["rung"] == "extracted circuit")
    assert circuit_rung["note"].startswith("no circuit")


def test_ctrl_c_while_training_keeps_the_partial_run(tmp_path, monkeypatch):
    """A real SIGINT mid-training: the run folder keeps a resumable state and synth.json."""
    import os
    import signal

    import neural

    real_train = neural.train

    def train_then_ctrl_c(*args, on_step=None, **kwargs):
        def step(info):
            if info.step >= 40:
                os.kill(os.getpid(), signal.SIGINT)

        return real_train(*args, on_step=step, **kwargs)

    monkeypatch.setattr(neural, "train", train_then_ctrl_c)
    run_dir = tmp_path / "a-folder-with-a-long-name-so-that-the-command-is-wider-than-80" / "r"
    result = invoke("run", "modadd", *QUICK, "--out", str(run_dir), "--no-plots")
    assert result.exit_code == 130, result.output
    assert "Interrupted during train" in result.stderr and "None" not in result.stderr
    assert (run_dir / "synth.json").exists() and (run_dir / "state.pt").exists()
    assert "train" not in json.loads((run_dir / "report.json").read_text())

    # the hint is one line (never wrapped) and a command that finishes the run
    hint = next(line for line in result.stderr.splitlines() if line.startswith("synthcmp run"))
    assert hint.endswith("--resume") and f"--out {run_dir}" in hint
    monkeypatch.setattr(neural, "train", real_train)
    finished = invoke(*shlex.split(hint)[1:], "--json")
    assert finished.exit_code == 0, finished.output
    report = json.loads(finished.stdout)
    assert json.loads((run_dir / "report.json").read_text()) == report
    assert {"synth", "train", "compare", "ladder"} <= set(report) and "plots" not in report
    assert report["train"]["status"] in ("grokked", "finished")
    assert report["synth"] == json.loads((run_dir / "synth.json").read_text())


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "modadx"], "modadd"),
        (["run", "moddiv", "--p", "21"], "must be prime"),
        (["run", "modadd", "--p", "4096"], "supported range"),
        (["run", "--expr", "x +* y"], "cannot parse"),
        (["run", "--expr", "exec('x')"], "not allowed"),
        (["run", "modadd", "--frac", "1"], "(0, 1)"),
        (["run", "modadd", "--top", "0"], "--top"),
        (["run", "modadd", "--steps", "-5"], "--steps"),
        (["run", "modadd", "--resume"], "--out"),
        (["run", "modadd", "--bogus"], "--bogus"),
    ],
)
def test_bad_input_is_one_clean_line(args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_existing_run_folder_is_not_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    result = invoke("run", "modadd", "--p", "11", "--out", str(tmp_path))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "precious"
    forced = invoke("run", "modadd", "--p", "11", "--out", str(tmp_path), "--force")
    assert forced.exit_code == 2 and "not a synthcmp run folder" in forced.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_run_that_does_not_grok_says_so_and_its_advice_runs(tmp_path):
    """The advice printed for a run that did not generalize is a command that exists: it
    continues the same run folder and then groks."""
    import shlex

    run_dir = tmp_path / "short"
    first = invoke("run", "modadd", "--p", "31", "--steps", "30", "--out", str(run_dir),
                   "--no-plots")  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "Not grokked in 30 steps" in first.stderr
    command = next(line for line in first.stderr.splitlines() if "--resume" in line)
    args = shlex.split(command)
    assert args[:2] == ["synthcmp", "run"] and "--steps" in args
    again = invoke(*args[1:], "--no-plots", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["train"]["grok_step"] is not None
    assert "Not grokked" not in again.stderr
