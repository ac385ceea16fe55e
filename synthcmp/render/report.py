"""The report of ``synthcmp run``, drawn from ``report.json`` alone.

Seven sections, in the order a reader needs them: the task; the shortest programs; training
(accuracy over log-scaled steps); the circuit; the match; the description-length ladder; the
three phases. Panels take the console's width up to 100 columns and are laid out to read at
80 as at 100: sparklines shrink to the panel, numbers never wrap, labels wrap at spaces, and
each table has a dim legend from the glossary under it. A key the report lacks (an older or
newer report) is shown as "–".

The same rendering, recorded, becomes the HTML page (:mod:`synthcmp.render.html`), so the
page and the terminal never disagree.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from synthcmp.render.compare import (
    DASH,
    candidates,
    circuit_panel,
    fmt,
    get,
    match_table,
    node_test_panel,
    panel,
    panel_width,
    pct,
    progress_panel,
)
from synthcmp.render.glossary import legend
from synthcmp.render.train import verdict
from taskcore.table import Task

TITLES = {
    "task": "1 · task",
    "synth": "2 · the shortest programs (synth)",
    "train": "3 · training (accuracy over steps)",
    "circuit": "4 · the circuit inside the network",
    "match": "5 · the match",
    "ladder": "6 · description-length ladder",
    "phases": "7 · phases over training (losses in nats)",
}


def task_panel(task: dict, width: int) -> Panel:
    noise = f", {task['noise']:.0%} labels noised" if task.get("noise") else ""
    frac = fmt(task.get("train_frac"), ".0%")
    body = Text.from_markup(
        f"[bold]{task.get('name', DASH)}[/]: {task.get('formula', DASH)}\n"
        f"n = {task.get('n', DASH)} symbols, {fmt(task.get('domain_size'), ',')} pairs in the "
        f"domain{noise}; train {fmt(task.get('n_train'), ',')} ({frac}) · "
        f"test {fmt(task.get('n_test'), ',')} · seed {task.get('seed', DASH)}"
    )
    return panel(body, TITLES["task"], width)


def synth_panel(report: dict, task: Task, top: int, width: int) -> Panel:
    from synthcmp.render.synth import LEGEND, programs_table, search_line

    synth = report["synth"]
    body = Group(programs_table(synth, task, top), legend(*LEGEND), Text(""),
                 search_line(synth.get("stats")))  # fmt: skip
    return panel(body, TITLES["synth"], width)


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(steps: list[int], values: list[float], width: int = 60) -> str:
    """Values in [0, 1] resampled on a log-spaced step grid, as one line of block characters."""
    if not steps:
        return ""
    s = np.asarray(steps, dtype=float) + 1
    grid = np.geomspace(s[0], s[-1], width) if s[-1] > s[0] else np.full(width, s[0])
    idx = np.clip(np.searchsorted(s, grid, side="right") - 1, 0, len(s) - 1)
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=float)[idx], nan=0.0), 0, 1)
    return "".join(SPARK[int(round(x * (len(SPARK) - 1)))] for x in v)


LABEL = 6  # "train " before each sparkline


def training_panel(train: dict, metrics: list[dict], width: int) -> Panel:
    """Train and test accuracy as sparklines over log-scaled steps, then the facts."""
    line = max(10, width - 4 - LABEL)  # the panel's border and padding take 4 columns
    steps = [m["step"] for m in metrics]
    spark = Text()
    for name, key, colour in (("train", "train_acc", "blue"), ("test", "test_acc", "red")):
        values = [m.get(key) if isinstance(m.get(key), float | int) else 0.0 for m in metrics]
        spark.append(f"{name:<{LABEL}}", style="bold")
        spark.append(sparkline(steps, values, line) + "\n", style=colour)
    first, last = (f"step {steps[0] + 1}", str(steps[-1])) if steps else ("", "")
    middle = "log-scaled steps"
    gap = max(1, line - len(first) - len(last) - len(middle))
    axis = first + " " * (gap // 2) + middle + " " * (gap - gap // 2) + last
    spark.append(" " * LABEL + axis, style="dim")

    facts = Table(box=None, show_header=False, pad_edge=False)
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    mem, grok = train.get("memorization_step"), train.get("grok_step")
    facts.add_row("memorized (train acc 100%)", "no" if mem is None else f"step {mem}")
    facts.add_row("grokked (test acc ≥ 99%)", "no" if grok is None else f"step {grok}")
    final = train.get("final") or {}
    facts.add_row(
        "final accuracy",
        f"train {pct(final.get('train_acc'))} · test {pct(final.get('test_acc'))}",
    )
    facts.add_row(
        "wall time",
        f"{fmt(train.get('seconds'), '.1f')} s for {fmt(train.get('steps'), ',')} steps "
        f"({fmt(train.get('steps_per_second'), ',.0f')} steps/s), {train.get('model') or DASH}",
    )
    try:
        said = verdict(train)
    except (KeyError, TypeError):  # a summary without the numbers a verdict needs
        said = DASH
    facts.add_row("verdict", said)
    return panel(Group(spark, Text(""), facts), TITLES["train"], width)


def ladder_panel(rungs: list[dict], width: int) -> Panel:
    """The rungs that code the training labels, then, apart, the network's raw parameters."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("rung", no_wrap=True)
    table.add_column("what", overflow="fold", max_width=24)
    table.add_column("bits", justify="right", no_wrap=True)
    table.add_column("what the bits pay for", style="dim", overflow="fold")
    data = [r for r in rungs if r.get("describes", "data") == "data"]
    apart = [r for r in rungs if r.get("describes") == "network"]
    for r in data:
        bits = fmt(r.get("bits"), ",.1f") if r.get("bits") is not None else DASH
        code = Text(r.get("code") or "")
        if r.get("bits") is None:
            code = Text(r.get("note") or code.plain)
        if r.get("caveat"):
            code.append(f" — {r['caveat']}", style="yellow")
        table.add_row(r.get("rung", DASH), r.get("what", DASH), bits, code)
    if apart:
        table.add_row("", "", "", "")
        for r in apart:
            table.add_row(Text(r.get("rung", DASH), style="dim"), Text(r.get("what", DASH), "dim"),
                          Text(fmt(r.get("bits"), ",.1f"), "dim"), r.get("code") or "")  # fmt: skip
    reading = Text(
        "The rungs above the gap are one two-part code of the training labels: a network that "
        "found the program has a circuit a few bits longer than the program; one that "
        "memorized has no circuit and nothing shorter than the table.",
    )
    return panel(Group(table, legend("ladder", "raw parameters"), Text(""), reading),
                 TITLES["ladder"], width)  # fmt: skip


def render_report(
    report: dict, console: Console, task: Task, metrics: list[dict], top: int = 5
) -> None:
    """Print every section that ``report`` has (an interrupted run has fewer)."""
    width = panel_width(console)
    console.print(task_panel(report.get("task") or {}, width))
    if "synth" in report:
        console.print(synth_panel(report, task, top, width))
    if "train" in report:
        console.print(training_panel(report["train"], metrics, width))
    if "compare" in report:
        comp = report["compare"]
        console.print(circuit_panel(comp.get("circuit"), width, TITLES["circuit"],
                                    comp.get("why") or ""))  # fmt: skip
        if comp.get("node_test"):
            console.print(node_test_panel(comp["node_test"], width))
        console.print(match_table(candidates(comp), comp.get("match") or {}, width,
                                  TITLES["match"], comp.get("noise"), comp.get("circuit")))  # fmt: skip
        if "ladder" in report:
            console.print(ladder_panel(report["ladder"] or [], width))
        console.print(progress_panel(comp.get("progress") or [], comp.get("phases") or {},
                                     width, TITLES["phases"], comp.get("llc"),
                                     comp.get("llc_config")))  # fmt: skip
    seconds = get(report, "seconds") or {}
    files = ["report.json", *(report.get("plots") or {}).values()]
    for line in (
        Text(" · ".join(f"{k} {v:.1f} s" for k, v in seconds.items()), style="dim"),
        Text.assemble(("files in ", "dim"), f"{report.get('run_dir', DASH)}: ", "  ".join(files)),
        Text("what a column means: synthcmp explain [TERM]", style="dim"),
    ):
        console.print(line, width=width, overflow="fold")
