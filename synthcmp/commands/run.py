"""``synthcmp run``: synthesize, train, compare, report — the whole comparison in one command."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from synthcmp.ui import UserError, console, err_console, print_json, task_header, task_options
from taskcore.errors import TaskError
from taskcore.table import Task

STAGE_TITLES = {
    "synth": "searching for the shortest programs",
    "train": "training the network",
    "compare": "extracting the circuit and matching it",
    "plots": "drawing the plots",
}


class RunDisplay:
    """The pipeline's hooks, rendered on stderr: one live display per stage."""

    def __init__(self, steps: int):
        self.steps = steps
        self.stack = contextlib.ExitStack()
        self.stage: str | None = None
        self.update = None

    def on_stage(self, stage: str) -> None:
        from synthcmp.render.synth import search_progress
        from synthcmp.render.train import TrainDisplay

        self.stack.close()
        self.stage, self.update = stage, None
        err_console.rule(f"[bold]{stage}[/] · {STAGE_TITLES[stage]}", align="left")
        if stage == "synth":
            self.update = self.stack.enter_context(search_progress(err_console))
        elif stage == "train":
            self.update = self.stack.enter_context(TrainDisplay(err_console, self.steps)).on_step
        elif err_console.is_terminal:
            status = self.stack.enter_context(err_console.status(STAGE_TITLES[stage] + "…"))
            self.update = lambda p: status.update(f"{p.stage}: {p.done}/{p.total}")

    def forward(self, progress) -> None:
        if self.update is not None:
            self.update(progress)

    def close(self) -> None:
        self.stack.close()


@click.command()
@task_options
@click.option("--model", type=click.Choice(["transformer", "mlp"]), default="transformer",
              show_default=True, help="Network architecture.")  # fmt: skip
@click.option("--frac", type=float, default=None,
              help="Training fraction, shared by both learners [default: the trainer's measured default].")  # fmt: skip
@click.option("--steps", type=int, default=None, help="Most training steps [default: the model's].")
@click.option("--top", type=int, default=5, show_default=True, help="Programs to keep and match.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder [default: a fresh folder under runs/].")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print only report.json on stdout.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Also write a self-contained HTML report to this file.")  # fmt: skip
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--device", default="cpu", show_default=True, help="torch device for training.")
@click.pass_context
def run(ctx: click.Context, task: Task, seed: int, model, frac, steps, top, out, as_json,
        html_path, no_plots, device) -> None:  # fmt: skip
    """Run the synthesizer and the network on TASK's shared split, extract the network's
    circuit, match it to the shortest programs and write a report.

    \b
    Examples:
      synthcmp run modadd --p 97            grok x + y and find its Fourier circuit
      synthcmp run lookup --p 97            random labels: memorization, in bits
      synthcmp run --expr "x*x + y" --p 31  your own task
    """
    from neural.store import RunError, read_metrics
    from neural.train import TrainingDiverged, TrainingInterrupted
    from synthcmp.commands.train import default_run_dir, resume_command
    from synthcmp.pipeline import Hooks, RunOptions, run_pipeline, train_config
    from synthcmp.render.report import render_report, write_html

    if top < 1:
        raise UserError(f"--top must be at least 1, got {top}")
    if steps is not None and steps < 0:
        raise UserError(f"--steps must be ≥ 0, got {steps}")
    if no_plots and html_path:
        err_console.print("[dim]--no-plots: the HTML report will have no figures[/]")
    run_dir = Path(out) if out is not None else default_run_dir(task, seed)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise UserError(f"run folder {run_dir} already exists; choose another --out")
    options = RunOptions(model=model, frac=frac, steps=steps, seed=seed, top=top,
                         plots=not no_plots, device=device)  # fmt: skip
    config = train_config(task, options)

    err_console.print(task_header(task))
    display = RunDisplay(config.steps)
    hooks = Hooks(on_stage=display.on_stage, on_synth=display.forward,
                  on_step=display.forward, on_compare=display.forward)  # fmt: skip
    try:
        report = run_pipeline(task, run_dir, options, hooks)
    except (KeyboardInterrupt, TrainingInterrupted):
        display.close()
        where = f"the partial run is in {run_dir}" if run_dir.exists() else "nothing was written"
        err_console.print(f"[yellow]Interrupted[/] during {display.stage}; {where}.")
        if display.stage == "train" and run_dir.exists():
            err_console.print(f"Continue training with: {resume_command(task, run_dir)}")
        ctx.exit(130)
    except TrainingDiverged as err:
        display.close()
        raise click.ClickException(f"{err} (run folder: {run_dir})") from None
    except (RunError, TaskError) as err:
        display.close()
        raise UserError(str(err)) from None
    display.close()

    metrics = read_metrics(run_dir)
    if html_path:
        write_html(report, task, metrics, Path(html_path), top)
    if as_json:
        print_json(report)
        return
    render_report(report, console, task, metrics, top)
    if html_path:
        console.print(f"[dim]HTML report:[/] {html_path}")
