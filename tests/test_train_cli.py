"""``synthcmp train`` end to end through click: the JSON contract, the run folder, the
refusals (overwrite without --force, --resume without a run), and the lookup verdict."""

from __future__ import annotations

import json

from cli_helpers import invoke

FAST = ["--p", "11", "--steps", "30", "--frac", "0.5"]


def test_json_summary_alone_on_stdout(tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "modadd", *FAST, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["run_dir"] == str(out) and doc["steps"] == 30
    assert isinstance(doc["seconds"], float)
    assert set(doc["final"]) >= {"train_acc", "test_acc", "train_loss", "test_loss"}
    assert "memorization_step" in doc and "grok_step" in doc
    assert json.loads((out / "summary.json").read_text()) == doc
    assert (out / "model.pt").exists() and (out / "task.json").exists()


def test_refuses_to_overwrite_without_force(tmp_path):
    out = str(tmp_path / "run")
    assert invoke("train", "modadd", *FAST, "--out", out, "--json").exit_code == 0
    again = invoke("train", "modadd", *FAST, "--out", out, "--json")
    assert again.exit_code == 2
    assert again.stdout == ""
    assert "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    forced = invoke("train", "modadd", *FAST, "--out", out, "--json", "--force")
    assert forced.exit_code == 0


def test_resume_continues_a_run_with_more_steps(tmp_path):
    out = str(tmp_path / "run")
    assert invoke("train", "modadd", *FAST, "--out", out, "--json").exit_code == 0
    more = invoke(
        "train", "modadd", "--p", "11", "--steps", "40", "--out", out, "--resume", "--json"
    )
    assert more.exit_code == 0, more.output
    assert json.loads(more.stdout)["steps"] == 40


def test_user_mistakes_are_one_line_and_exit_2(tmp_path):
    cases = [
        ("train", "modadd", "--p", "11", "--resume"),  # no --out
        ("train", "modadd", "--p", "11", "--out", str(tmp_path / "none"), "--resume"),
        ("train", "modadd", "--p", "11", "--frac", "1.5"),
        ("train", "modadd", "--p", "11", "--steps", "-3"),
        ("train", "modad", "--p", "11"),
    ]
    for args in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_lookup_summary_says_it_memorized_at_chance(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "train", "lookup", "--p", "7", "--steps", "200", "--frac", "0.5", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "memorized" in result.stdout and "chance" in result.stdout


def test_ctrl_c_saves_and_says_how_to_resume(tmp_path):
    """A real SIGINT to a real process: exit 130, a resume point, and the command to go on."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    exe = os.path.join(os.path.dirname(sys.executable), "synthcmp")
    args = [exe, "train", "lookup", "--p", "11", "--steps", "1000000", "--out", str(out)]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    deadline = time.time() + 60
    while not (out / "state.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stderr and "--resume" in stderr and "Traceback" not in stderr
    resumed = invoke(
        "train", "lookup", "--p", "11", "--steps", "20", "--out", str(out), "--resume", "--json"
    )
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["steps"] >= 20
