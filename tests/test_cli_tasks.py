"""The CLI's front door: `synthcmp tasks`, start-up cost, and every bad input as one clean line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_helpers import invoke

from taskcore.registry import BUILTIN


def test_tasks_lists_every_builtin():
    result = invoke("tasks")
    assert result.exit_code == 0
    for name in BUILTIN:
        assert name in result.output


def test_tasks_json():
    result = invoke("tasks", "--json", "--p", "23")
    doc = json.loads(result.stdout)
    rows = {r["name"]: r for r in doc["tasks"]}
    assert set(rows) == set(BUILTIN)
    assert rows["modadd"]["n"] == 23 and rows["modadd"]["domain_size"] == 529
    assert rows["moddiv"]["domain_size"] == 23 * 22
    assert rows["s5conj"]["n"] == 120


def test_cli_start_does_not_import_torch():
    code = "import sys, synthcmp.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("command", ["synth", "train", "run", "compare"])
def test_every_command_documents_itself(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


def bad_table(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return str(path)


BAD_INPUTS = [
    (["synth", "modad"], "Did you mean modadd"),
    (["train", "moddiv", "--p", "96"], "must be prime"),
    (["synth", "modadd", "--p", "1"], "supported range"),
    (["synth", "modadd", "--p", "5000"], "supported range"),
    (["tasks", "--p", "0"], "supported range"),
    (["synth", "--expr", "__import__('os')"], "not allowed"),
    (["synth", "--expr", "x +* "], "cannot parse"),
    (["synth", "--expr", "x / y", "--p", "10"], "must be prime"),
    (["synth", "modadd", "--frac", "1.5"], "(0, 1)"),
    (["train", "modadd", "--frac", "0"], "(0, 1)"),
    (["synth", "modadd", "--expr", "x"], "exactly one"),
    (["synth"], "exactly one"),
    (["synth", "modadd", "--noise", "1.5"], "noise"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS)
def test_bad_input_is_one_clean_line(args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stdout == ""
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash


@pytest.mark.parametrize(
    "text, message",
    [
        ("0,1\n1\n", "different lengths"),
        ("x,y,out\n0,0,1\n0,1,1\n1,0,0\n", "missing cells"),
        ("0,1\n2,0\n", "out of range"),
        ("1,2,3\n4,5,6\n", "shape"),
    ],
)
def test_bad_table_file_is_one_clean_line(tmp_path, text, message):
    result = invoke("synth", "--table", bad_table(tmp_path, text))
    assert result.exit_code == 2 and message in result.output
    assert isinstance(result.exception, SystemExit)


def test_tasks_at_a_composite_p_marks_the_division_tasks():
    rows = {
        r["name"]: r for r in json.loads(invoke("tasks", "--json", "--p", "12").stdout)["tasks"]
    }
    assert rows["moddiv"]["domain_size"] is None and rows["modcond"]["domain_size"] is None
    assert rows["modmul"]["domain_size"] == 144
    assert "needs prime p" in invoke("tasks", "--p", "12").stdout
