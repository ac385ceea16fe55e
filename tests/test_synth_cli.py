"""``synthcmp synth`` from the outside: table, JSON document, user errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from synthcmp.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["synth", *args])


def test_json_is_the_whole_stdout_and_has_the_documented_shape():
    result = run("modadd", "--p", "23", "--top", "2", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["task"] == "modadd" and doc["p"] == 23
    best = doc["programs"][0]
    assert best["expr"] == "x + y" and best["kind"] == "program"
    assert best["exceptions"] == 0 and best["train_acc"] == 1.0 and best["test_acc"] == 1.0
    assert isinstance(best["bits"], float)
    assert any(p["kind"] == "table" for p in doc["programs"])
    assert {"seconds", "programs", "stopped"} <= set(doc["stats"])
    assert doc["stats"]["stopped"] == "solutions"


def test_table_shows_math_notation_and_search_stats():
    result = run("modsq", "--p", "23", "--top", "2")
    assert result.exit_code == 0, result.output
    assert "x² + y²" in result.stdout
    assert "programs built" in result.stdout and "stopped: solutions" in result.stdout


def test_custom_expr_and_budgets():
    result = run("--expr", "x*y + 3*x", "--p", "31", "--top", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["programs"][0]["test_acc"] == 1.0
    again = run("--expr", doc["programs"][0]["expr"], "--p", "31", "--top", "1", "--json")
    assert json.loads(again.stdout)["programs"][0]["expr"] == doc["programs"][0]["expr"]
    result = run("modquadx", "--p", "23", "--max-bits", "10", "--json")
    doc = json.loads(result.stdout)
    assert doc["stats"]["stopped"] == "max_bits" and doc["programs"][0]["kind"] == "table"


def test_user_mistakes_are_one_line_and_exit_2():
    for args in (
        ["modadd", "--frac", "1.5"],
        ["modadd", "--top", "0"],
        ["modadd", "--timeout", "-1"],
        ["modadd", "--max-bits", "0"],
        ["nosuchtask"],
        ["moddiv", "--p", "21"],
    ):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.strip().startswith("Error:") and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1


def test_grammar_prints_itself():
    result = run("modadd", "--grammar")
    assert result.exit_code == 0 and "Kraft" in result.stdout and "inv(a)" in result.stdout
    doc = json.loads(run("s5conj", "--grammar", "--json").stdout)
    assert doc["family"] == "group" and doc["productions"][-1]["probability"] <= 1
