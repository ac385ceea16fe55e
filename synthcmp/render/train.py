"""How a training run looks in the terminal: a live status line while it trains, a line
for each of the two events (memorized, grokked), and a summary table with a verdict.

Pure rendering: it reads the trainer's :class:`~neural.train.StepInfo` objects and the
summary dict (``summary.json``) and never imports torch itself.
"""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


class TrainDisplay:
    """Live progress on ``console`` (stderr). ``on_step`` is the trainer's callback.

    On a terminal the status line redraws in place; elsewhere (a log file, a test) only
    the event lines are printed, so logs stay readable.
    """

    def __init__(self, console: Console, steps: int):
        self.console, self.steps = console, steps
        self.live: Live | None = None
        self.last: tuple[int, float] | None = None
        self.rate: float | None = None

    def __enter__(self) -> TrainDisplay:
        if self.console.is_terminal:
            self.live = Live(Text("starting…"), console=self.console, refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def on_step(self, info) -> None:
        if self.last is not None and info.seconds > self.last[1]:
            rate = (info.step - self.last[0]) / (info.seconds - self.last[1])
            self.rate = rate if self.rate is None else 0.7 * self.rate + 0.3 * rate
        self.last = (info.step, info.seconds)
        if "memorized" in info.events:
            self.console.print(
                f"[green]✓ memorized[/] at step {info.step} ({info.seconds:.1f} s): "
                f"train accuracy 100%, test accuracy {pct(info.test_acc)}"
            )
        if "grokked" in info.events:
            self.console.print(
                f"[bold green]✓ grokked[/] at step {info.step} ({info.seconds:.1f} s): "
                f"test accuracy {pct(info.test_acc)}"
            )
        if self.live is not None:
            self.live.update(self.status(info))

    def status(self, info) -> Text:
        rate = f"{self.rate:.0f} steps/s" if self.rate else "– steps/s"
        return Text.from_markup(
            f"step [bold]{info.step}[/]/{self.steps}   "
            f"train acc {pct(info.train_acc)} loss {info.train_loss:.4f}   "
            f"test acc [bold]{pct(info.test_acc)}[/] loss {info.test_loss:.4f}   "
            f"‖θ‖ {info.weight_norm:.1f}   {rate}   {info.seconds:.1f} s"
        )


def verdict(summary: dict) -> str:
    """One sentence on what the network did, from the summary's numbers."""
    final, n = summary["final"], summary["task"]["n"]
    chance = 1.0 / n
    if summary["grok_step"] is not None:
        return f"grokked: test accuracy ≥ 99% from step {summary['grok_step']}"
    if summary["memorization_step"] is None:
        return f"did not memorize in {summary['steps']} steps (train accuracy {pct(final['train_acc'])})"
    if abs(final["test_acc"] - chance) <= chance / 2 + 0.01:  # near 1/n, not merely low
        return (f"memorized; test accuracy stays at chance ({pct(final['test_acc'])}; "
                f"1/n = {pct(chance)})")  # fmt: skip
    if final["test_acc"] < chance:
        return (f"memorized; test accuracy {pct(final['test_acc'])}, below chance "
                f"(1/n = {pct(chance)})")  # fmt: skip
    return (
        f"memorized, not grokked in {summary['steps']} steps "
        f"(test accuracy {pct(final['test_acc'])})"
    )


def summary_table(summary: dict) -> Table:
    final = summary["final"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("run", summary["run_dir"] or "–")
    table.add_row(
        "steps",
        f"{summary['steps']} in {summary['seconds']:.1f} s ({summary['steps_per_second']} steps/s)",
    )
    for label, key in (("memorized", "memorization_step"), ("grokked", "grok_step")):
        step = summary[key]
        table.add_row(label, "no" if step is None else f"step {step}")
    table.add_row("train", f"acc {pct(final['train_acc'])}   loss {final['train_loss']:.4g}")
    table.add_row("test", f"acc {pct(final['test_acc'])}   loss {final['test_loss']:.4g}")
    table.add_row("verdict", verdict(summary))
    return table
