"""Sweeps: the spec, the database, the driver's promises and the report.

The driver's promises are tested with stand-in cell functions run by the real pool (a cell
that fails once, always, or kills its worker), so they take a second; the real cells run
once, at p = 11 with a few dozen steps, for the end-to-end checks: the database holds what
each run's report says, a rerun does nothing, Ctrl-C and a killed driver lose no finished
cell and the next run finishes only the missing ones. Every user mistake is one ``Error:``
line, exit code 2, and changes no file.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import assert_one_error_line, invoke, snapshot

from synthcmp.sweep.cell import error_row
from synthcmp.sweep.db import COLUMNS, DB_FILE, Database
from synthcmp.sweep.driver import MARKER, WORKER_LOG, run_sweep
from synthcmp.sweep.executors import LocalPool
from synthcmp.sweep.report import GROKKED, MEMORIZED, MIXED, NOT_FIT, build_report
from synthcmp.sweep.spec import Cell, load_spec, parse_spec
from taskcore.errors import TaskError

ROOT = Path(__file__).resolve().parents[1]
TINY = """
name = "tiny"
tasks = ["modadd", "modsub"]
p = 11
frac = [0.8]
seed = [0]
steps = 40
"""
TINY_LLC = TINY + "llc = true\n"  # the real sweep below estimates λ̂ too


# ---------------------------------------------------------------------------------------
# The spec


def test_cells_are_the_product_of_the_lists_with_defaults_resolved():
    from neural.config import DEFAULTS

    spec = parse_spec('tasks = ["modadd", "modsub", "s5mul"]\np = [11, 13]\n'
                      "frac = [0.3, 0.5]\nseed = [0, 1]\nweight_decay = [1, 4]")  # fmt: skip
    cells = spec.cells()
    # s5mul takes no p: it appears once per other value, not once per p
    assert len(cells) == (2 * 2 + 1) * 2 * 2 * 2
    assert len({c.key for c in cells}) == len(cells) == len({c.folder for c in cells})
    assert {c.steps for c in cells} == {DEFAULTS["transformer"].steps}
    assert {c.lr for c in cells} == {DEFAULTS["transformer"].lr}
    assert {c.p for c in cells if c.task == "s5mul"} == {None}
    # each task's own network unless the spec names one: the MLP for a group
    assert {c.model for c in cells if c.task == "s5mul"} == {"mlp"}
    assert {c.model for c in cells if c.task != "s5mul"} == {"transformer"}
    assert [c.seed for c in cells] == sorted(c.seed for c in cells)  # seeds outermost


def test_a_scalar_is_a_list_of_one_and_frac_defaults_to_the_tasks():
    from taskcore import get_task
    from taskcore.table import default_train_frac

    one = parse_spec('tasks = "modadd"\np = 13\nseed = 3').cells()
    assert len(one) == 1 and one[0].seed == 3
    assert one[0].frac == default_train_frac(get_task("modadd", p=13))


def test_a_cell_key_round_trips_through_json():
    cell = parse_spec(TINY).cells()[0]
    assert Cell.from_json(json.loads(json.dumps(cell.to_json()))).key == cell.key


@pytest.mark.parametrize(
    "text, words",
    [
        ("tasks = [", "not valid TOML"),
        ('tasks = ["modadd"]\nfracs = [0.5]', "unknown key 'fracs'"),
        ('tasks = ["modad"]', "unknown task 'modad'"),
        ("p = 11", "no 'tasks'"),
        ('tasks = ["modadd"]\nfrac = [1.5]', "frac"),
        ('tasks = ["modadd"]\nfrac = ["0.5"]', "expected numbers"),
        ('tasks = ["modadd"]\np = [true]', "expected integers"),
        ('tasks = ["moddiv"]\np = 12', "prime"),
        ('tasks = ["modadd"]\nseed = [1, 1]', "twice"),
        ('tasks = ["modadd"]\nseed = []', "empty list"),
        ('tasks = ["modadd"]\nsteps = -1', "steps"),
        ('tasks = ["modadd"]\nstages = ["compare"]', "compare needs synth and train"),
        ('tasks = ["modadd"]\nmodel = "rnn"', "model"),
        ('tasks = ["modadd"]\nlr = 0', "lr"),
        ('tasks = ["modadd"]\nweight_decay = -1', "weight_decay"),
        ('tasks = ["modadd"]\ntop = 0', "top"),
        ('tasks = ["modadd"]\nllc = 1', "true or false"),
        ('tasks = ["modadd"]\nstages = ["synth", "train"]\nllc = true', "add it to stages"),
        ('tasks = ["modadd"]\np = {a = 1}', "expected integers"),
        ("tasks = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_a_bad_spec_is_one_task_error(text, words):
    with pytest.raises(TaskError, match=None) as err:
        parse_spec(text, source="s.toml")
    assert words in str(err.value) and "s.toml" in str(err.value)


# ---------------------------------------------------------------------------------------
# Stand-in cells: what the driver does with failures, crashes and reruns


def fake_row(job: dict) -> dict:
    cell = Cell.from_json(job["cell"])
    row = error_row(cell, "", job["attempt"])
    row.update(status="ok", error=None, grokked=cell.frac > 0.5, memorized=True,
               grok_step=100 if cell.frac > 0.5 else None, synth_exact_test=True,
               synth_program="x", synth_kind="program", synth_program_bits=3.0)  # fmt: skip
    return row


def fake_cell(job: dict) -> dict:
    """Fails on its first attempt for fraction 0.5, always for 0.7, kills its worker on the
    first attempt for 0.6 and on every attempt for 0.9."""
    frac, first = job["cell"]["frac"], job["attempt"] == 1
    if frac == 0.7 or (frac == 0.5 and first):
        raise RuntimeError(f"cell failed on attempt {job['attempt']}")
    if frac == 0.9 or (frac == 0.6 and first):
        os._exit(3)
    return fake_row(job)


FAKE = "test_sweep:fake_cell"


def spec_of(fracs: list[float], seeds=(0,)) -> object:
    return parse_spec(f'tasks = ["modadd"]\np = 11\nfrac = {fracs}\nseed = {list(seeds)}\n'
                      "steps = 10")  # fmt: skip


def test_a_failing_cell_is_retried_once_then_recorded_with_its_error(tmp_path):
    spec = spec_of([0.4, 0.5, 0.6, 0.7, 0.9])
    events = []
    result = run_sweep(spec, tmp_path / "s", LocalPool(2, FAKE),
                       on_progress=lambda p: events.append(p.event))  # fmt: skip
    assert (result.ok, result.failed, result.retries) == (3, 2, 4)
    with Database(tmp_path / "s" / DB_FILE, readonly=True) as db:
        rows = {r["frac"]: r for r in db.rows()}
    assert rows[0.4]["attempts"] == 1 and rows[0.4]["status"] == "ok"
    assert rows[0.5]["attempts"] == 2 and rows[0.5]["status"] == "ok"  # failed, then ran
    assert rows[0.6]["attempts"] == 2 and rows[0.6]["status"] == "ok"  # its worker died once
    assert rows[0.7]["status"] == "error" and "cell failed on attempt 2" in rows[0.7]["error"]
    assert rows[0.9]["status"] == "error" and "worker process died" in rows[0.9]["error"]
    assert events[0] == "start" and events.count("retry") == 4
    log = (tmp_path / "s" / WORKER_LOG).read_text()  # the tracebacks the rows leave out
    assert "Traceback" in log and "cell failed on attempt 2" in log


def test_a_rerun_runs_only_the_missing_cells(tmp_path):
    out = tmp_path / "s"
    first = run_sweep(spec_of([0.4, 0.6]), out, LocalPool(1, FAKE))
    assert (first.ran, first.ok, first.failed) == (2, 2, 0)
    with Database(out / DB_FILE, readonly=True) as db:
        before = {r["cell"]: r["finished"] for r in db.rows()}
    again = run_sweep(spec_of([0.4, 0.6]), out, LocalPool(1, FAKE))
    assert (again.recorded, again.ran) == (2, 0)
    more = run_sweep(spec_of([0.4, 0.6], seeds=(0, 1)), out, LocalPool(1, FAKE))
    assert (more.recorded, more.ran) == (2, 2)  # only the new seed's cells
    with Database(out / DB_FILE, readonly=True) as db:
        rows = db.rows()
    assert len(rows) == 4
    assert {r["cell"]: r["finished"] for r in rows if r["cell"] in before} == before


def test_a_pool_starts_no_more_workers_than_there_are_cells(tmp_path):
    pool = LocalPool(64, FAKE)
    result = run_sweep(spec_of([0.4, 0.6]), tmp_path / "s", pool)
    assert result.ok == 2 and pool.slots == 2 and result.executor == "local pool, 2 workers"


def test_failed_cells_run_again_only_when_asked(tmp_path):
    out = tmp_path / "s"
    run_sweep(spec_of([0.4, 0.7]), out, LocalPool(1, FAKE))
    assert run_sweep(spec_of([0.4, 0.7]), out, LocalPool(1, FAKE)).ran == 0
    again = run_sweep(spec_of([0.4, 0.7]), out, LocalPool(1, FAKE), retry_failed=True)
    assert (again.ran, again.failed) == (1, 1)


def test_the_ray_path_runs_cells_and_records_failures(tmp_path):
    pytest.importorskip("ray")
    from synthcmp.sweep.executors import RayExecutor

    result = run_sweep(
        spec_of([0.4, 0.5, 0.7]), tmp_path / "s", RayExecutor("local", 2, function=FAKE)
    )
    assert (result.ok, result.failed, result.retries) == (2, 1, 2)
    with Database(tmp_path / "s" / DB_FILE, readonly=True) as db:
        rows = {r["frac"]: r for r in db.rows()}
    assert rows[0.5]["attempts"] == 2 and "attempt 2" in rows[0.7]["error"]


# ---------------------------------------------------------------------------------------
# What the report computes from the rows


def row(task="modadd", frac=0.5, seed=0, grokked=False, memorized=True, exact=True, bits=7.75,
        wd=1.0, status="ok", program="x + y"):  # fmt: skip
    r = dict.fromkeys(COLUMNS)
    r.update(cell=f"{task} {frac} {seed} {wd}", task=task, p=11, frac=frac, seed=seed,
             model="transformer", weight_decay=wd, lr=0.01, steps=100,
             stages="synth+train+compare", status=status, attempts=1, grokked=grokked,
             grok_step=100 + seed if grokked else None, memorized=memorized,
             synth_exact_test=exact, synth_program=program, synth_kind="program",
             synth_program_bits=bits)  # fmt: skip
    return r


def test_a_learner_generalizes_at_a_fraction_only_in_most_seeds():
    rows = [row(frac=0.3, seed=0, grokked=True), row(frac=0.3, seed=1, grokked=False),
            row(frac=0.5, seed=0, grokked=True), row(frac=0.5, seed=1, grokked=True),
            row(frac=0.7, seed=0, grokked=True), row(frac=0.7, seed=1, status="error")]  # fmt: skip
    (fig,) = build_report(rows).power
    (op,) = fig.rows
    assert op.network_frac == 0.5  # 1 of 2 seeds at 0.3 is not most
    assert op.synth_frac == 0.3
    assert [(c.frac, c.network_of, c.network, c.failed) for c in op.counts] == [
        (0.3, 2, 1, 0), (0.5, 2, 2, 0), (0.7, 1, 1, 1)]  # fmt: skip


def test_each_learner_is_counted_over_the_cells_that_ran_it():
    rows = [row(frac=0.1, seed=s, exact=True) for s in (0, 1)]
    for r in rows:
        r["stages"], r["grokked"] = "synth", None  # synth-only cells: no network trained
    rows += [row(frac=0.1, seed=2, grokked=True)]
    (op,) = build_report(rows).power[0].rows
    (count,) = op.counts
    assert (count.network, count.network_of, count.synth, count.synth_of) == (1, 1, 3, 3)
    assert op.network_frac == 0.1 and op.synth_frac == 0.1


def test_operations_are_ordered_by_the_length_of_their_program():
    rows = [row(task="modcube2", bits=20.0, program="long"), row(task="modsub", bits=8.5),
            row(task="modadd", bits=7.75), row(task="lookup", exact=False, program="table")]  # fmt: skip
    (fig,) = build_report(rows).power
    assert [r.task for r in fig.rows] == ["modadd", "modsub", "modcube2", "lookup"]
    assert fig.rows[-1].program is None and fig.rows[-1].synth_frac is None


def test_operations_still_improving_at_the_budget_are_named_per_budget():
    """A sweep over budgets draws one figure per budget; an operation that never grokked but
    whose networks were still improving is named, one whose networks plateaued is not."""
    from rich.console import Console

    from synthcmp.render.sweep import render_report

    rows = []
    for steps, rising in ((100, True), (1000, False)):
        for task, up in (("modquad", rising), ("modcube", False)):
            r = row(task=task, grokked=False)
            r.update(cell=f"{task} {steps}", steps=steps, test_acc_rising=up)
            rows.append(r)
    small, large = build_report(rows).power
    assert (small.steps, large.steps) == (100, 1000)
    assert {r.task: r.rising_at for r in small.rows} == {"modquad": [0.5], "modcube": []}
    assert all(r.rising_at == [] for r in large.rows)
    console = Console(record=True, width=100)
    render_report(build_report(rows).to_json() | {"dir": "d", "database": "db"}, console)
    text = console.export_text()
    assert "Still improving at 100 steps, never grokked: modquad (at 0.5)" in text
    assert "No operation that never grokked was still improving at 1,000 steps" in text
    assert "never ↑" in text


def test_an_operation_never_learned_is_named_with_its_curves_at_the_largest_budget(tmp_path):
    """The evidence for "never": at the largest budget only (smaller ones are its prefixes),
    the operations no network grokked at any fraction, with the curves of their cells at
    the largest fraction; an operation grokked somewhere is not named; a damaged run folder
    is left out of the figure, not a crash."""
    from rich.console import Console

    from synthcmp.render.figures.sweep import never_panels, plot_never
    from synthcmp.render.sweep import render_report

    rows = []
    for steps in (100, 1000):
        for frac in (0.5, 0.9):
            for seed in (0, 1):
                quad = row(task="modquad", frac=frac, seed=seed)
                add = row(frac=frac, seed=seed, grokked=frac == 0.9 and steps == 1000)
                # one seed of two grokked: not "most seeds", so never — and said so
                sub = row(task="modsub", frac=frac, seed=seed,
                          grokked=frac == 0.9 and steps == 1000 and seed == 1)  # fmt: skip
                for r in (quad, add, sub):
                    r.update(cell=f"{r['task']} {frac} {seed} {steps}", steps=steps,
                             test_acc=0.3 + 0.1 * seed,
                             report=f"runs/{r['task']}-f{frac}-s{seed}-st{steps}/report.json")  # fmt: skip
                rows += [quad, add, sub]
    report = build_report(rows, dir=str(tmp_path))
    never, partly = sorted(report.never, key=lambda n: n.task != "modquad")
    assert (never.task, never.steps, never.frac, never.seeds) == ("modquad", 1000, 0.9, [0, 1])
    assert never.final_test_acc == 0.4 and never.runs[0] == "runs/modquad-f0.9-s0-st1000"
    assert never.grokked == 0
    # the seed that grokked is counted, and the accuracy is that of the one that did not
    assert (partly.task, partly.grokked, partly.final_test_acc) == ("modsub", 1, 0.3)
    console = Console(record=True, width=100)
    render_report(report.to_json() | {"database": "db"}, console)
    text = " ".join(console.export_text().replace("│", " ").split())  # unwrapped
    assert text.count("at no fraction within") == 1
    assert "within 1,000 steps, the largest budget: " in text
    assert "modquad (final test ≤ 40% at 0.9" in text
    assert "modsub (1 of 2 grokked, not most; the other's final test ≤ 30% at 0.9" in text
    run = tmp_path / never.runs[0]  # seed 0's curves; seed 1's folder is gone
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "train_loss": 1 / (s + 1), "test_loss": 3.0, "test_acc": 0.3,
                    "train_acc": 1.0, "weight_norm": 9.0}) + "\n" for s in range(0, 1000, 100)))  # fmt: skip
    (panel,) = never_panels(report, tmp_path)
    assert [c["label"] for c in panel["curves"]] == ["seed 0"] and len(panel["curves"][0]["step"]) == 10
    (tmp_path / never.runs[0] / "metrics.jsonl").write_bytes(b"\xff\x00 not json")
    assert never_panels(report, tmp_path) == []
    png = plot_never([panel], tmp_path / "never.png", "t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_costs_are_read_at_the_largest_budget_and_a_miss_is_marked_at_what_it_spent():
    def cell(task, seed, steps, grokked, exact, bits=7.75):
        r = row(task=task, seed=seed, grokked=grokked, exact=exact, bits=bits)
        r.update(cell=f"{task} {seed} {steps}", steps=steps, flops_per_step=1e6,
                 steps_trained=min(steps, 500) if grokked else steps, grok_seconds=2.0,
                 train_seconds=9.0 if not grokked else 3.0, synth_programs_to_best=40,
                 synth_seconds_to_best=0.01, synth_programs=900, synth_search_seconds=0.5,
                 synth_bits_searched=30.0)  # fmt: skip
        if grokked:
            r["flops_to_grok"] = 1e6 * r["grok_step"]
        return r

    rows = [cell("modadd", 0, 100, False, True), cell("modadd", 0, 1000, True, True),
            cell("modquad", 0, 1000, False, False), cell("modquad", 1, 1000, False, True, 20.5),
            cell("lookup", 0, 1000, False, False)]  # fmt: skip
    rows[-1]["synth_program"], rows[-1]["synth_program_bits"] = "table", None
    report = build_report(rows)
    points = {(c.task, c.seed): c for c in report.cost}
    assert len(points) == 4  # modadd's 100-step cell is part of its 1000-step one
    add = points[("modadd", 0)]
    assert add.steps == 1000 and add.network_found and add.network_flops == 1e6 * 100
    assert (add.synth_programs, add.synth_seconds) == (40, 0.01)
    miss = points[("modquad", 0)]  # neither found it: what each spent in all
    assert not miss.network_found and miss.network_flops == 1e6 * 1000
    assert not miss.synth_found and miss.synth_programs == 900
    assert miss.program_bits == 20.5  # the operation's program, found in another seed
    lookup = points[("lookup", 0)]
    assert lookup.program_bits is None and lookup.bits_searched == 30.0
    by_op = {r.task: r for r in report.cost_rows}
    assert by_op["modadd"].faster == "synth" and by_op["modquad"].faster is None
    assert (by_op["modquad"].synth_found, by_op["modquad"].network_found) == (1, 0)


def test_phase_points_say_what_most_seeds_did():
    rows = [row(frac=0.3, seed=0, grokked=True), row(frac=0.3, seed=1, grokked=True),
            row(frac=0.3, seed=2, grokked=False),
            row(frac=0.5, seed=0, wd=4.0), row(frac=0.5, seed=1, wd=4.0, grokked=True),
            row(frac=0.5, seed=0), row(frac=0.5, seed=1),
            row(frac=0.7, memorized=False),
            row(frac=0.9, seed=0, grokked=True), row(frac=0.9, seed=1, memorized=False)]  # fmt: skip
    (diagram,) = build_report(rows).phases
    points = {(p.frac, p.weight_decay): p for p in diagram.points}
    assert diagram.weight_decays == [1.0, 4.0]
    assert points[(0.3, 1.0)].state == GROKKED and points[(0.3, 1.0)].grok_step == 100.5
    assert points[(0.5, 1.0)].state == MEMORIZED
    assert points[(0.7, 1.0)].state == NOT_FIT
    # one seed of two grokked, the other memorized or did not fit: no outcome is "most"
    assert points[(0.5, 4.0)].state == MIXED and points[(0.9, 1.0)].state == MIXED


# ---------------------------------------------------------------------------------------
# Real cells, end to end through the CLI


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    spec = root / "tiny.toml"
    spec.write_text(TINY_LLC)
    out = root / "out"
    result = invoke("sweep", "run", spec, "--out", out, "--workers", "2", "--json")
    assert result.exit_code == 0, result.output
    return spec, out, json.loads(result.stdout)


def test_each_cell_is_a_run_whose_report_is_its_row(swept):
    _, out, summary = swept
    assert (summary["total"], summary["ok"], summary["failed"]) == (2, 2, 0)
    result = invoke("sweep", "report", out, "--json", "--no-plots")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["cells"]) == 2  # one row per cell
    for cell in report["cells"]:
        run = json.loads((out / cell["report"]).read_text())
        assert cell["grok_step"] == run["train"]["grok_step"]
        assert cell["test_acc"] == run["train"]["final"]["test_acc"]
        assert cell["match_program"] == run["compare"]["match"]["program"]
        assert cell["verdict"] == run["compare"]["match"]["verdict"]
        assert cell["synth_program"] == run["synth"]["programs"][0]["expr"]
        rungs = {r["rung"]: r["bits"] for r in run["ladder"]}
        assert cell["bits_memorized_table"] == rungs["memorized table"]
        assert cell["bits_shortest_program"] == rungs["shortest program"]
    programs = {r["task"]: r["program"] for r in report["power"][0]["rows"]}
    assert programs == {"modadd": "x + y", "modsub": "x - y"}


def test_every_finished_cell_records_what_each_learner_paid(swept):
    _, out, _ = swept
    report = json.loads(invoke("sweep", "report", out, "--json", "--no-plots").stdout)
    for cell in report["cells"]:
        assert cell["flops_per_step"] > 0 and cell["synth_bits_searched"] > 0
        assert cell["train_seconds"] > 0 and cell["synth_programs"] > 0
        if cell["synth_kind"] == "program":
            assert cell["synth_programs_to_best"] > 0 and cell["synth_seconds_to_best"] >= 0
        if cell["grokked"]:
            assert cell["flops_to_grok"] == cell["flops_per_step"] * cell["grok_step"]
            assert 0 < cell["grok_seconds"] and cell["test_acc_rising"] is False
        else:  # marked, not dropped: the budget it had, and whether it was still improving
            assert cell["flops_to_grok"] is None and cell["grok_seconds"] is None
            assert cell["steps_trained"] > 0 and cell["test_acc_rising"] in (True, False)


def test_llc_is_the_final_checkpoints_and_only_a_trusted_one_is_a_number(swept):
    _, out, _ = swept
    report = json.loads(invoke("sweep", "report", out, "--json", "--no-plots").stdout)
    for cell in report["cells"]:
        run = json.loads((out / cell["report"]).read_text())
        (final,) = run["compare"]["llc"]  # one estimate: the final checkpoint's
        assert final["step"] == run["train"]["steps"] or final["step"] == max(
            p["step"] for p in run["compare"]["progress"])  # fmt: skip
        assert cell["llc_trusted"] is final["trusted"]
        assert cell["llc"] == (final["llc"] if final["trusted"] else None)
        assert cell["cell"].endswith(" llc")
    (series,) = [s for s in report["llc"] if s["task"] == "modadd"]
    assert series["fracs"] == [0.8] and len(series["llc"][0]) + series["untrusted"][0] == 1


def test_the_database_has_typed_columns(swept):
    _, out, _ = swept
    conn = sqlite3.connect(out / DB_FILE)
    types = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(runs)")}
    assert types["grok_step"] == "INTEGER" and types["test_acc"] == "REAL"
    assert types["verdict"] == "TEXT"
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
    # the values stored are of those types, and the table refuses others (STRICT)
    stored = conn.execute("SELECT typeof(test_acc), typeof(steps), typeof(verdict) FROM runs")
    assert set(stored.fetchall()) == {("real", "integer", "text")}
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE runs SET steps = 'many'")
    conn.close()


def test_a_rerun_of_a_finished_sweep_runs_nothing(swept):
    spec, out, _ = swept
    result = invoke("sweep", "run", spec, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["recorded"], summary["ran"]) == (2, 0)


def test_the_report_has_figures_legends_html_and_an_export(swept, tmp_path):
    _, out, _ = swept
    html, csv = tmp_path / "r.html", tmp_path / "rows.csv"
    result = invoke("sweep", "report", out, "--html", html, "--export", csv)
    assert result.exit_code == 0, result.output
    for title in ("Power et al.", "phase diagrams", "each cell"):
        assert title in result.stdout
    assert "the smallest training fraction at which" in result.stdout  # a legend
    assert "λ̂ — local learning coefficient at the final checkpoint" in result.stdout
    assert "what each learner paid" in result.stdout and "FLOPs" in result.stdout
    for name in ("power.png", "phases.png", "llc.png", "cost.png"):
        assert (out / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'content="synthcmp"' in html.read_text() and "data:image/png;base64" in html.read_text()
    lines = csv.read_text().splitlines()
    assert lines[0].split(",")[:2] == ["cell", "task"] and len(lines) == 3


def run_cli(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synthcmp.cli", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def recorded(out: Path) -> dict[str, str]:
    if not (out / DB_FILE).exists():
        return {}
    with Database(out / DB_FILE, readonly=True) as db:
        return {r["cell"]: r["finished"] for r in db.rows()}


def wait_for_rows(out: Path, count: int, proc: subprocess.Popen, limit: float = 120) -> None:
    t0 = time.monotonic()
    while len(recorded(out)) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < limit, "no cell finished"
        time.sleep(0.1)


def test_ctrl_c_and_a_killed_driver_lose_no_finished_cell(tmp_path):
    spec = tmp_path / "four.toml"
    spec.write_text(TINY.replace("frac = [0.8]", "frac = [0.6, 0.8]"))
    out = tmp_path / "out"
    proc = run_cli("sweep", "run", spec, "--out", out, "--workers", "1")
    wait_for_rows(out, 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted" in err and f"synthcmp sweep run {spec} --out {out}" in err
    first = recorded(out)
    assert 1 <= len(first) <= 4

    proc = run_cli("sweep", "run", spec, "--out", out, "--workers", "1")
    wait_for_rows(out, len(first) + 1, proc) if len(first) < 4 else None
    proc.kill()
    proc.communicate()
    second = recorded(out)
    assert {k: second[k] for k in first} == first  # nothing finished was lost or redone
    time.sleep(1.5)  # the killed driver's worker notices and exits

    result = invoke("sweep", "run", spec, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["recorded"] == len(second) and summary["ran"] == 4 - len(second)
    assert summary["failed"] == 0
    final = recorded(out)
    assert len(final) == 4 and {k: final[k] for k in second} == second


# ---------------------------------------------------------------------------------------
# Every user mistake: one line, exit 2, nothing changed


@pytest.fixture()
def scratch(tmp_path):
    (tmp_path / "good.toml").write_text(TINY)
    (tmp_path / "bad.toml").write_text("tasks = [\n")
    (tmp_path / "typo.toml").write_text('tasks = ["modadd"]\nfracs = [0.5]\n')
    (tmp_path / "unknown.toml").write_text('tasks = ["modadd", "nosuch"]\n')
    (tmp_path / "values.toml").write_text('tasks = ["modadd"]\nfrac = [0.5, 2]\n')
    (tmp_path / "latin1.toml").write_bytes(b"tasks = ['caf\xe9']\n")
    (tmp_path / "a_file").write_text("not a folder\n")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / MARKER).write_text("synthcmp sweep folder\n")
    Database(sweep_dir / DB_FILE).close()
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / MARKER).write_text("synthcmp sweep folder\n")
    (corrupt / DB_FILE).write_bytes(b"this is not a database" * 100)
    other = tmp_path / "other"
    other.mkdir()
    (other / MARKER).write_text("synthcmp sweep folder\n")
    conn = sqlite3.connect(other / DB_FILE)
    conn.execute("CREATE TABLE runs (x)")
    conn.commit()
    conn.close()
    (tmp_path / "empty").mkdir()
    odd = tmp_path / "odd"  # its database is a folder
    odd.mkdir()
    (odd / MARKER).write_text("synthcmp sweep folder\n")
    (odd / DB_FILE).mkdir()
    (tmp_path / "rows.csv").write_text("the user's own table\n")
    (tmp_path / "link.csv").symlink_to(foreign / "notes.txt")
    users_db = tmp_path / "users.db"  # the user's own SQLite file, a link's target
    Database(users_db).close()
    for name, planted in (("linkdb", DB_FILE), ("linkruns", "runs")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / MARKER).write_text("synthcmp sweep folder\n")
        if planted == DB_FILE:
            (folder / DB_FILE).symlink_to(users_db)
        else:
            Database(folder / DB_FILE).close()
            (folder / "runs").symlink_to(foreign, target_is_directory=True)
    return tmp_path


HOSTILE = [
    (["sweep", "run", "bad.toml", "--out", "new"], "not valid TOML"),
    (["sweep", "run", "typo.toml", "--out", "new"], "unknown key 'fracs'"),
    (["sweep", "run", "unknown.toml", "--out", "new"], "unknown task 'nosuch'"),
    (["sweep", "run", "values.toml", "--out", "new"], "frac: 2 is not in (0, 1)"),
    (["sweep", "run", "latin1.toml", "--out", "new"], "not UTF-8"),
    (["sweep", "run", "missing.toml", "--out", "new"], "missing.toml"),
    (["sweep", "run", "empty", "--out", "new"], "not a regular file"),
    (["sweep", "run", "good.toml", "--out", "a_file"], "is a file"),
    (["sweep", "run", "good.toml", "--out", "a_file/sub"], "cannot create folder"),
    (["sweep", "run", "good.toml", "--out", "foreign"], "not a synthcmp sweep folder"),
    (["sweep", "run", "good.toml", "--out", "corrupt"], "not a readable synthcmp sweep database"),
    (["sweep", "run", "good.toml", "--out", "other"], "not a synthcmp sweep database"),
    (["sweep", "run", "good.toml", "--out", "new", "--workers", "0"], "--workers"),
    (["sweep", "run", "good.toml", "--out", "new", "--device", "tpu"], "tpu"),
    (["sweep", "run", "good.toml", "--out", ""], "--out"),
    (["sweep", "run", "good.toml"], "--out"),
    (["sweep", "report", "nowhere"], "does not exist"),
    (["sweep", "report", "empty"], "no sweep database"),
    (["sweep", "report", "corrupt"], "not a readable synthcmp sweep database"),
    (["sweep", "report", "other"], "not a synthcmp sweep database"),
    (["sweep", "report", "odd"], "is not a regular file"),
    (["sweep", "run", "good.toml", "--out", "odd"], "is not a regular file"),
    (["sweep", "report", "sweep", "--export", "rows.xlsx"], ".csv or .parquet"),
    (["sweep", "report", "sweep", "--html", "nowhere/r.html"], "does not exist"),
    (["sweep", "report", "sweep", "--html", "good.toml"], "not a report synthcmp wrote"),
    (["sweep", "report", "sweep", "--export", "rows.csv"], "--force"),
    (["sweep", "report", "sweep", "--export", "link.csv", "--force"], "not a regular file"),
    (["sweep", "run", "good.toml", "--out", "linkdb"], "symbolic link"),
    (["sweep", "run", "good.toml", "--out", "linkruns"], "symbolic link"),
]


@pytest.mark.parametrize("args, words", HOSTILE, ids=[" ".join(a) for a, _ in HOSTILE])
def test_a_user_mistake_is_one_error_line_and_changes_nothing(scratch, monkeypatch, args, words):
    monkeypatch.chdir(scratch)
    before = snapshot(scratch)
    result = invoke(*args)
    assert_one_error_line(result, words)
    assert snapshot(scratch) == before


def test_figures_are_never_written_through_a_link(swept, tmp_path):
    """A link planted at figures/ is refused; one planted at a figure is replaced by it."""
    copy = tmp_path / "copy"
    shutil.copytree(swept[1], copy, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
    target = tmp_path / "mine.png"
    target.write_text("the user's picture")
    shutil.rmtree(copy / "figures", ignore_errors=True)
    (copy / "figures").symlink_to(tmp_path, target_is_directory=True)
    assert_one_error_line(invoke("sweep", "report", copy), "is a link")
    (copy / "figures").unlink()
    (copy / "figures").mkdir()
    planted = copy / "figures" / "power.png"
    planted.symlink_to(target)
    assert invoke("sweep", "report", copy).exit_code == 0
    assert target.read_text() == "the user's picture"
    assert planted.is_file() and not planted.is_symlink()
    exported = tmp_path / "rows.csv"
    exported.write_text("old")
    assert invoke("sweep", "report", copy, "--export", exported, "--force").exit_code == 0
    assert exported.read_text().startswith("cell")


def test_a_second_sweep_on_the_same_folder_is_refused(scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    fd = os.open(scratch / "sweep" / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running sweep holds it
        before = snapshot(scratch)
        result = invoke("sweep", "run", "good.toml", "--out", "sweep")
    finally:
        os.close(fd)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use by another synthcmp process" in lines[0]
    assert snapshot(scratch) == before


class _Unreachable:
    """An executor that cannot start, as Ray without a cluster."""

    slots = 1

    def __enter__(self):
        raise TaskError("--ray auto: cannot connect")

    def __exit__(self, *exc):
        return False


def test_an_executor_that_cannot_start_leaves_no_folder_and_keeps_an_old_one(tmp_path):
    spec = parse_spec(TINY)
    with pytest.raises(TaskError, match="cannot connect"):
        run_sweep(spec, tmp_path / "new", _Unreachable())
    assert not (tmp_path / "new").exists()  # nothing half-made

    old = tmp_path / "old"
    run_sweep(spec, old, LocalPool(1), cells=spec.cells()[:1])  # one finished cell
    before = snapshot(old)
    with pytest.raises(TaskError, match="cannot connect"):
        run_sweep(spec, old, _Unreachable())
    after = snapshot(old)
    assert {k: v for k, v in after.items() if k != DB_FILE} == {
        k: v for k, v in before.items() if k != DB_FILE}  # the sweeps log row may grow
    with Database(old / DB_FILE, readonly=True) as db:
        assert list(db.statuses().values()) == ["ok"]


def test_a_larger_budget_continues_the_smaller_ones_run_and_equals_training_from_scratch(
        tmp_path):  # fmt: skip
    """Budgets resume: a rerun that adds a budget runs only the new cells, each continuing the
    run of its next smaller budget — and takes exactly the steps a fresh run would."""
    import torch

    from neural import default_config, train
    from taskcore.registry import get_task

    one = 'name = "b"\ntasks = ["modadd"]\np = 11\nfrac = [0.8]\nseed = [0]\nsteps = [20]\n'
    spec = tmp_path / "b.toml"
    spec.write_text(one)
    out = tmp_path / "out"
    assert invoke("sweep", "run", spec, "--out", out, "--workers", "1").exit_code == 0
    spec.write_text(one.replace("steps = [20]", "steps = [20, 60]"))
    result = invoke("sweep", "run", spec, "--out", out, "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["recorded"], summary["ran"]) == (1, 1)
    (longer,) = [d for d in (out / "runs").iterdir() if d.name.endswith("-st60")]
    scratch = train(get_task("modadd", p=11), default_config(train_frac=0.8, steps=60),
                    run_dir=tmp_path / "scratch")  # fmt: skip

    def rows(folder):
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
                for line in (folder / "metrics.jsonl").read_text().splitlines()]  # fmt: skip

    assert rows(longer) == rows(scratch.run_dir) and len(rows(longer)) > len(rows(out / "runs" / (
        longer.name[: -len("-st60")] + "-st20")))  # fmt: skip
    continued, fresh = (torch.load(d / "model.pt") for d in (longer, scratch.run_dir))
    assert all(torch.equal(continued[k], fresh[k]) for k in fresh)


def test_the_batched_sweep_path_equals_one_by_one_runs_on_the_cpu(tmp_path):
    """--batch-seeds trains the cells that differ only in their seed as one stacked model (a
    lookup table, drawn per seed, runs alone; a longer budget continues its own run) — and
    every row says what the cell run alone says, to float tolerance."""
    spec = tmp_path / "b.toml"
    spec.write_text('name = "b"\ntasks = ["modadd", "lookup"]\np = 11\nfrac = [0.8]\n'
                    'seed = [0, 1]\nsteps = [20, 40]\n')  # fmt: skip
    rows = {}
    for flag in ("--batch-seeds", "--no-batch-seeds"):
        out = tmp_path / flag
        result = invoke("sweep", "run", spec, "--out", out, "--workers", "1", flag)
        assert result.exit_code == 0, result.output
        with Database(out / DB_FILE, readonly=True) as db:
            rows[flag] = {r["cell"]: r for r in db.rows()}
        batched = {d.name for d in (out / "runs").iterdir()
                   if "batched_seeds" in json.loads((d / "summary.json").read_text())}
        # the two modadd seeds at the first budget trained as one model; the continued runs
        # keep saying so; a lookup table never batches
        expected = {d.name for d in (out / "runs").iterdir() if d.name.startswith("modadd")}
        assert batched == (expected if flag == "--batch-seeds" else set())
    assert rows["--batch-seeds"].keys() == rows["--no-batch-seeds"].keys() and len(rows[
        "--batch-seeds"]) == 8  # fmt: skip
    for key, one in rows["--no-batch-seeds"].items():
        row = rows["--batch-seeds"][key]
        for column in ("status", "memorization_step", "grok_step", "steps_trained",
                       "synth_program", "verdict"):  # fmt: skip
            assert row[column] == one[column], (key, column)
        for column in ("train_acc", "test_acc"):
            assert abs(row[column] - one[column]) <= 0.02, (key, column)


def test_an_older_database_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    """A results.db of schema 1 (before λ̂ and the costs) is read as it is, and brought up to
    date — its rows kept — when a sweep writes to it."""
    from synthcmp.sweep import db

    path = tmp_path / DB_FILE
    added = {c for v in range(1, db.SCHEMA_VERSION) for c in db._added(v)}
    assert {"llc", "llc_trusted", "flops_to_grok", "synth_programs_to_best"} <= added
    old = {k: v for k, v in db.COLUMNS.items() if k not in added}
    conn = sqlite3.connect(path)
    conn.executescript(f"CREATE TABLE runs ({', '.join(f'{k} {v}' for k, v in old.items())}) "
                       "STRICT; CREATE TABLE sweeps (started TEXT NOT NULL, name TEXT NOT NULL, "
                       "spec TEXT NOT NULL, cells INTEGER NOT NULL) STRICT;")  # fmt: skip
    conn.execute(f"PRAGMA application_id = {db.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runs (cell, task, frac, seed, model, weight_decay, lr, steps, "
                 "stages, status, attempts) VALUES ('c', 'modadd', 0.5, 0, 'mlp', 1.0, 0.01, "
                 "10, 'train', 'ok', 1)")  # fmt: skip
    conn.commit()
    conn.close()
    with db.Database(path, readonly=True) as read:
        (only,) = read.rows()
        assert only["cell"] == "c" and only["llc"] is None
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    with db.Database(path) as write:
        write.put({**only, "cell": "d", "llc": 3.5, "llc_trusted": True})
        assert [r["llc"] for r in write.rows()] == [None, 3.5]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION


def test_top_is_part_of_a_cell_only_when_it_is_not_the_default():
    """Which program a network matches can depend on how many are kept, so a spec with
    another top makes other cells; the default's keys stay those of earlier sweeps."""
    default = parse_spec('tasks = ["modadd"]\np = 11\n').cells()[0]
    other = parse_spec('tasks = ["modadd"]\np = 11\ntop = 3\n').cells()[0]
    assert "top" not in default.key and default.key.endswith("stages=synth+train+compare")
    assert other.key == default.key + " top=3" and other.folder != default.folder


def test_expressions_of_your_own_are_cells_too(tmp_path):
    spec = parse_spec('exprs = ["x**2 + y", "x*y + x"]\ntasks = ["modadd"]\np = 7\nsteps = 10\n'
                      'frac = 0.5\n')  # fmt: skip
    cells = spec.cells()
    assert [(c.task, c.expr) for c in cells] == [("modadd", False), ("x**2 + y", True),
                                                  ("x*y + x", True)]  # fmt: skip
    square = cells[1]
    assert square.key.startswith("expr='x**2 + y' p=7") and "/" not in square.folder
    assert square.folder != cells[2].folder and square.folder.startswith("expr-x__2___y-")
    assert Cell.from_json(square.to_json()) == square
    with pytest.raises(TaskError, match="exprs"):
        parse_spec('exprs = ["x +"]\n')
    with pytest.raises(TaskError, match="exprs"):
        parse_spec('exprs = ["x / y"]\np = 8\n')  # division needs a prime
    out = tmp_path / "s"
    (tmp_path / "e.toml").write_text('exprs = ["x**2 + y"]\np = 7\nsteps = 10\nfrac = 0.5\n')
    result = invoke("sweep", "run", tmp_path / "e.toml", "--out", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(invoke("sweep", "report", out, "--json", "--no-plots").stdout)
    (cell,) = report["cells"]
    assert cell["task"] == "x**2 + y" and cell["status"] == "ok"
    assert report["power"][0]["rows"][0]["formula"] == "x**2 + y"


def test_the_example_specs_parse():
    from pathlib import Path

    folder = Path(__file__).parent.parent / "examples" / "sweeps"
    sizes = {p.stem: len(load_spec(p).cells()) for p in folder.glob("*.toml")}
    assert sizes == {"small": 18, "power47": 180, "ladder": 11 * 2 * 2, "power": 9 * 9 * 3 + 3 * 9 * 3}
