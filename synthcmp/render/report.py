"""The report of ``synthcmp run``, drawn from ``report.json`` alone.

Seven sections, in the order a reader needs them, each fitting a 100-column terminal:
the task; the shortest programs; training (accuracy over log-scaled steps); the circuit;
the match; the description-length ladder; the three phases. The same rendering, recorded,
becomes the HTML page (:func:`write_html`), with the PNG plots embedded, so the page and
the terminal never disagree.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from synthcmp.plots import sparkline
from synthcmp.render.compare import circuit_panel, match_table, progress_panel
from synthcmp.render.train import pct, verdict
from taskcore.table import Task

WIDTH = 100
PRE = (
    "<pre style=\"font-family:Menlo,'DejaVu Sans Mono',monospace;font-size:13px;"
    'line-height:1.25">{code}</pre>'
)


def task_panel(task: dict) -> Panel:
    noise = f", {task['noise']:.0%} labels noised" if task.get("noise") else ""
    body = Text.from_markup(
        f"[bold]{task['name']}[/]: {task['formula']}\n"
        f"n = {task['n']} symbols, {task['domain_size']:,} pairs in the domain{noise}; "
        f"train {task['n_train']:,} ({task['train_frac']:.0%}) · test {task['n_test']:,} · "
        f"seed {task['seed']}"
    )
    return Panel(body, title="1 · task", title_align="left", width=WIDTH)


def synth_panel(report: dict, task: Task, top: int) -> Panel:
    from synth import SynthResult
    from synthcmp.render.synth import results_table

    result = SynthResult.from_json(report["synth"])
    table = results_table(result, task, top)
    table.title = None
    return Panel(table, title="2 · the shortest programs (synth)", title_align="left", width=WIDTH)


def training_panel(train: dict, metrics: list[dict]) -> Panel:
    steps = [m["step"] for m in metrics]
    spark = Table(box=None, show_header=False, pad_edge=False)
    spark.add_column(style="bold", width=6)
    spark.add_column()
    line = 70
    spark.add_row("train", Text(sparkline(steps, [m["train_acc"] for m in metrics], line), "blue"))
    spark.add_row("test", Text(sparkline(steps, [m["test_acc"] for m in metrics], line), "red"))
    last = steps[-1] if steps else 0
    spark.add_row("", Text(f"step 1{'log-scaled steps':^{line - 2 - len(str(last))}}{last}", "dim"))
    facts = Table(box=None, show_header=False, pad_edge=False)
    facts.add_column(style="dim")
    facts.add_column()
    mem, grok = train["memorization_step"], train["grok_step"]
    facts.add_row("memorized (train acc 100%)", "no" if mem is None else f"step {mem}")
    facts.add_row("grokked (test acc ≥ 99%)", "no" if grok is None else f"step {grok}")
    final = train["final"]
    facts.add_row(
        "final accuracy", f"train {pct(final['train_acc'])} · test {pct(final['test_acc'])}"
    )
    facts.add_row(
        "wall time",
        f"{train['seconds']:.1f} s for {train['steps']} steps ({train['steps_per_second']} steps/s), "
        f"{train['model']}",
    )
    facts.add_row("verdict", verdict(train))
    return Panel(Group(spark, Text(""), facts), title="3 · training (accuracy over steps)",
                 title_align="left", width=WIDTH)  # fmt: skip


def ladder_panel(rungs: list[dict]) -> Panel:
    table = Table(box=None, header_style="bold")
    table.add_column("rung")
    table.add_column("what", max_width=34, overflow="fold")
    table.add_column("bits", justify="right")
    table.add_column("", style="dim")
    for r in rungs:
        table.add_row(r["rung"], r["what"], f"{r['bits']:,.1f}", r["note"])
    caption = Text(
        "A network that found the program needs few more bits than the program itself; "
        "one that memorized has nothing shorter than the table.",
        style="dim",
    )
    return Panel(Group(table, Text(""), caption), title="6 · description-length ladder",
                 title_align="left", width=WIDTH)  # fmt: skip


def render_report(
    report: dict, console: Console, task: Task, metrics: list[dict], top: int = 5
) -> None:
    """Print every section that ``report`` has (an interrupted run has fewer)."""
    console.print(task_panel(report["task"]))
    if "synth" in report:
        console.print(synth_panel(report, task, top))
    if "train" in report:
        console.print(training_panel(report["train"], metrics))
    if "compare" in report:
        comp = report["compare"]
        console.print(_titled(circuit_panel(comp["circuit"]), "4 · the circuit inside the network"))
        console.print(_titled(match_table(comp["programs"], comp["match"]), "5 · the match"))
        console.print(ladder_panel(report["ladder"]))
        console.print(_titled(progress_panel(comp.get("progress", []), comp["phases"]),
                              "7 · phases over training"))  # fmt: skip
    files = [report["run_dir"] + "/report.json"] + [
        f"{report['run_dir']}/{name}" for name in report.get("plots", {}).values()
    ]
    seconds = report.get("seconds", {})
    timing = " · ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
    console.print(f"[dim]{timing}[/]")
    console.print("[dim]files:[/] " + "  ".join(files))


def _titled(panel: Panel, title: str) -> Panel:
    panel.title = title
    return panel


def write_html(report: dict, task: Task, metrics: list[dict], path: Path, top: int = 5) -> Path:
    """One self-contained page: the terminal report as HTML, then every plot inlined (base64)."""
    console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system="truecolor")
    render_report(report, console, task, metrics, top)
    body = console.export_html(inline_styles=True, code_format=PRE)
    run_dir = Path(report["run_dir"])
    figures = []
    for name, file in report.get("plots", {}).items():
        data = base64.b64encode((run_dir / file).read_bytes()).decode("ascii")
        figures.append(
            f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(name)}</figcaption></figure>"
        )
    title = html.escape(f"synthcmp · {task.name}: {task.formula}")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{max-width:1100px;margin:2em auto;font-family:system-ui,sans-serif;color:#222}}
figure{{margin:1.5em 0}} img{{max-width:100%}} figcaption{{color:#666;font-size:90%}}</style>
</head><body><h1>{title}</h1>
{body}
<h2>Figures</h2>
{"".join(figures)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
