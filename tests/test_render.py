"""The report as a reader sees it: at 80 and 100 columns, with a legend under each table and
a glossary behind ``synthcmp explain``; and the HTML page with captions and its marker.

The report is rendered from a real (tiny) run's report.json, then from damaged copies of it:
a key the renderer does not find is shown as "–", never a crash.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from neural.store import read_metrics
from synthcmp.cli import main
from synthcmp.render import glossary
from synthcmp.render.html import GENERATOR, write_html
from synthcmp.render.report import SPARK, TITLES, render_report
from taskcore.registry import get_task

PHASES = ("memorization", "circuit formation", "cleanup")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[dict, Path]:
    run_dir = tmp_path_factory.mktemp("render") / "run"
    done = subprocess.run(
        [sys.executable, "-m", "synthcmp.cli", "run", "modadd", "--p", "13", "--frac", "0.8",
         "--steps", "400", "--out", str(run_dir), "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), run_dir


def render(report: dict, run_dir: Path | None, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    metrics = read_metrics(run_dir) if run_dir else []
    render_report(report, console, get_task("modadd", p=13), metrics)
    return console.file.getvalue()


@pytest.mark.parametrize("width", [80, 100])
def test_report_fits_the_terminal_and_cuts_nothing(stored, width):
    report, run_dir = stored
    text = render(report, run_dir, width)
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert "…" not in text  # nothing is truncated with an ellipsis
    for title in TITLES.values():
        assert title in text
    for phase in PHASES:  # the phases table names each phase whole, on one line
        assert any(line.split("│")[1].strip().startswith(phase) for line in lines if "│" in line)
    comp = report["compare"]
    programs = [p.get("program") or p.get("expr") for p in comp.get("candidates") or []]
    assert "x + y" in programs
    for expr in programs:  # each program's text whole, on one line
        assert expr in text, expr
    spark = next(line for line in lines if line.startswith("│ train ") and set(SPARK) & set(line))
    assert cell_len(spark) == width  # the sparkline fills its panel, no more


def test_panels_stop_at_100_columns(stored):
    report, run_dir = stored
    assert max(cell_len(line) for line in render(report, run_dir, 140).splitlines()) <= 100


def test_every_table_has_its_legend(stored):
    report, run_dir = stored
    lines = render(report, run_dir, 100).splitlines()
    text = " ".join(line.strip("│ ") for line in lines)  # legends wrap: join their lines
    for term in ("L(P)", "L(D|P)", "logit share", "restricted loss", "behaviour", "‖θ‖",
                 "raw parameters"):  # fmt: skip
        assert f"{term} — {glossary.GLOSSARY[term].line()}" in text
    assert "synthcmp explain" in text


def damaged(report):
    """Copies of the report with keys taken away, at every depth."""
    yield {"task": {}}
    yield {k: ({} if isinstance(v, dict) else [] if isinstance(v, list) else v)
           for k, v in report.items()}  # fmt: skip
    comp = report["compare"]
    yield {**report, "compare": {**comp, "circuit": None, "why": "S5 is not abelian"}}
    yield {**report, "compare": {"phases": {}, "match": {}}}
    points = [{"step": p["step"]} for p in comp.get("progress", [])]
    yield {**report, "compare": {**comp, "progress": points}, "ladder": [{}]}


def test_missing_keys_render_as_a_dash(stored):
    report, run_dir = stored
    for broken in damaged(report):
        text = render(broken, run_dir, 80)
        assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert "–" in render({**report, "compare": {"phases": {}, "match": {}}}, run_dir, 80)


def test_html_has_the_marker_captions_and_figures(stored, tmp_path):
    report, run_dir = stored
    page = write_html(report, get_task("modadd", p=13), read_metrics(run_dir),
                      tmp_path / "r.html").read_text(encoding="utf-8")  # fmt: skip
    assert '<meta name="generator" content="synthcmp">' in page and GENERATOR in page
    assert page.count("<figure") == len(report["plots"])
    captions = page.split("<figcaption>")[1:]
    for caption, file in zip(captions, report["plots"].values(), strict=True):
        said = caption.split("</figcaption>")[0]
        assert file not in said and len(said) > 120  # a sentence, not a file name


# -- the glossary and `synthcmp explain` ---------------------------------------------------


def test_the_glossary_says_the_thresholds_the_engines_use():
    """One definition each (taskcore.events), imported by the engines and read by the text."""
    from compare import circuit, clockpizza, logits, match, similarity, spectra
    from taskcore import events

    assert (logits.KEY_SHARE, spectra.EMBED_MASS, circuit.FORMED, match.MARGIN,
            clockpizza.GS_PIZZA, similarity.K_NEIGHBOURS) == (
        events.KEY_SHARE, events.EMBED_MASS, events.FORMED, events.MARGIN, events.GS_PIZZA,
        events.K_NEIGHBOURS)  # fmt: skip
    assert f"{events.KEY_SHARE:.0%}" in glossary.lookup("key frequency").text()
    assert f"{events.FORMED:g} · log n" in glossary.lookup("restricted loss").text()
    assert f"{events.FAITHFUL:.0%}" in glossary.lookup("faithfulness").text()


def test_every_term_has_a_one_line_meaning_and_a_full_text():
    for term in glossary.GLOSSARY.values():
        assert 0 < len(term.line()) <= 58, term.name  # one line beside the name at 80 columns
        assert len(term.text()) > len(term.line()), term.name
        assert glossary.lookup(term.name) is term
        for alias in term.aliases:
            assert glossary.lookup(alias) is term, alias


def explain(*args: str):
    return CliRunner().invoke(main, ["explain", *args])


def test_explain_lists_every_term():
    done = explain()
    assert done.exit_code == 0
    for term in glossary.GLOSSARY.values():
        assert term.name in done.output


@pytest.mark.parametrize(
    "words", [("restricted", "loss"), ("restricted loss",), ("Restricted_Loss",)]
)
def test_explain_gives_the_formula(words):
    done = explain(*words)
    assert done.exit_code == 0
    assert "P_K" in done.output and "key" in done.output


@pytest.mark.parametrize("word,meant", [("iia", "IIA"), ("theta", "‖θ‖"), ("alpha", "α_k"),
                                        ("ldp", "L(D|P)"), ("key_share", "key share")])  # fmt: skip
def test_explain_knows_the_ascii_names(word, meant):
    done = explain(word)
    assert done.exit_code == 0 and done.output.startswith(meant)


def test_explain_of_an_unknown_term_is_one_line_with_suggestions():
    done = CliRunner().invoke(main, ["explain", "restrictd", "lss"])
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "restricted loss" in lines[0]
    assert "Traceback" not in done.output


@pytest.mark.parametrize(
    "n, test_acc, said",
    [(6, 0.0, "below chance"), (23, 0.038, "stays at chance"), (97, 0.0, "stays at chance"),
     (23, 0.30, "not grokked")],
)  # fmt: skip
def test_the_training_verdict_says_chance_only_near_chance(n, test_acc, said):
    from synthcmp.render.train import verdict

    summary = {"final": {"test_acc": test_acc, "train_acc": 1.0}, "task": {"n": n},
               "grok_step": None, "memorization_step": 40, "steps": 3000}  # fmt: skip
    assert said in verdict(summary)


def test_a_score_not_measured_is_said_so_not_called_a_failure():
    from synthcmp.render.compare import evidence_line

    match = {"program": "x + y", "controls": ["x + y + 1"],
             "evidence": {"logit_correlation": True, "intervention": None}}  # fmt: skip
    line = evidence_line(match, {"found": False}).plain
    assert "IIA: not measured (no circuit was found" in line and "does not" not in line


def test_a_circuit_whose_measures_cannot_fail_says_so():
    from synthcmp.render.compare import circuit_panel

    def shown(**changes) -> str:
        c = {"basis": "irreps", "group": "S4", "node": "x * y", "key_frequencies": [1, 2],
             "key_irreps": [{"name": "sign", "dim": 1}, {"name": "standard", "dim": 3}],
             "key_span": 1.0, "measures_can_fail": False, **changes}  # fmt: skip
        console = Console(width=100, file=io.StringIO(), color_system=None)
        console.print(circuit_panel(c))
        return " ".join(console.file.getvalue().split())

    assert "cannot fail here" in shown()
    assert "cannot fail" not in shown(measures_can_fail=True, key_span=0.2)


def test_branches_and_the_node_test_are_rendered():
    from synthcmp.render.compare import circuit_panel, node_test_panel

    branch = {"condition": "y odd", "node": "x / y", "basis": "dlog", "faithfulness": 0.99,
              "fve": 0.9}  # fmt: skip
    console = Console(width=80, file=io.StringIO(), color_system=None)
    console.print(circuit_panel({"basis": "additive", "m": 23, "node": "x", "branches": [branch]}))
    test = {"node": "x * y", "reading": {"node": "x * y", "fve": 0.01}, "supported": False,
            "controls": [{"node": "2 * (x * y)", "fve": 0.0}],
            "verdict": "the network is not read through u = x * y"}  # fmt: skip
    console.print(node_test_panel(test, 80))
    out = " ".join(console.file.getvalue().split())
    assert "No single node explains" in out and "u = x / y (in discrete logs)" in out
    assert "not read through u = x * y" in out and "2 * (x * y)" in out


def test_a_group_tasks_captions_name_irreps_not_frequencies():
    from synthcmp.render.html import caption

    circuit = {"basis": "irreps", "group": "S4", "key_frequencies": [1, 2],
               "key_irreps": [{"name": "sign"}, {"name": "standard"}]}  # fmt: skip
    report = {"compare": {"circuit": circuit}}
    for name in ("spectrum", "progress"):
        text = caption(name, report)
        assert "frequenc" not in text and "irrep" in text, (name, text)
    assert "sign, standard" in caption("spectrum", report)
    cyclic = {"compare": {"circuit": {"basis": "additive", "key_frequencies": [3, 5]}}}
    assert "k = 3, 5" in caption("spectrum", cyclic)
