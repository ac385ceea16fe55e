"""``synthcmp run``: synthesize, train, compare, report — the whole comparison in one command."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from synthcmp.ui import (
    TOP,
    UserError,
    check_steps,
    console,
    device_option,
    err_console,
    frac_option,
    json_option,
    llc_args,
    llc_options,
    llc_settings,
    model_for,
    model_option,
    optimizer_changes,
    optimizer_options,
    out_option,
    print_json,
    task_header,
    task_options,
    top_option,
)
from taskcore.files import describe_os_error
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
@model_option
@frac_option
@optimizer_options
@click.option("--steps", type=int, default=None, help="Most training steps [default: the model's].")
@top_option("Programs to keep and match.")
@click.option("--program", "programs", multiple=True, metavar="EXPR",
              help="Also match this program against the network (repeatable).")  # fmt: skip
@out_option("Run folder [default: a fresh folder under runs/].")
@json_option("report.json")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Also write a self-contained HTML report to this file.")  # fmt: skip
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@device_option()
@click.option("--resume", is_flag=True,
              help="Finish an interrupted run in --out: training, then compare, plots and report.")  # fmt: skip
@click.option("--force", is_flag=True,
              help="Overwrite an existing run folder (one synthcmp made) and --html file.")  # fmt: skip
@llc_options
@click.pass_context
def run(ctx: click.Context, task: Task, seed: int, model, frac, lr, weight_decay, steps, top,
        programs, out, as_json, html_path, no_plots, device, resume, force) -> None:  # fmt: skip
    """Run the synthesizer and the network on TASK's shared split, extract the network's
    circuit, match it to the shortest programs and write a report.

    \b
    Examples:
      synthcmp run modadd --p 97            grok x + y and find its Fourier circuit
      synthcmp run lookup --p 97            random labels: memorization, in bits
      synthcmp run modadd --p 97 --llc      and λ̂ over training, beside the bits
      synthcmp run --expr "x*x + y" --p 31 --model mlp   your own task
      synthcmp run modadd --p 97 --out runs/a --resume   finish an interrupted run
    """
    from neural.store import STATE, open_run, read_metrics
    from neural.train import TrainingDiverged, check_device
    from synthcmp.commands.train import (
        advice,
        default_run_dir,
        print_advice,
        print_resume_hint,
        resume_command,
        stored_config,
    )
    from synthcmp.pipeline import Hooks, RunOptions, run_pipeline, train_config
    from synthcmp.render.html import check_html_target, write_html
    from synthcmp.render.report import render_report

    check_steps(steps)
    from synth import parse_program

    for text in programs:  # a bad --program is refused before anything starts
        parse_program(text, task)
    if resume and out is None:
        raise UserError("--resume needs --out: the folder of the run to finish")
    if resume and force:
        raise UserError("--resume and --force contradict each other; pick one")
    check_device(device)  # everything is checked before any folder is made
    html = Path(html_path) if html_path is not None else None
    if html is not None:
        check_html_target(html, force)
        if no_plots:
            err_console.print("[dim]--no-plots: the HTML report will have no figures[/]")
    run_dir = Path(out) if out is not None else default_run_dir(task, seed)
    from neural.llc import LLCConfig

    llc_given, llc_checkpoints = llc_settings(ctx)
    options = RunOptions(model=model_for(model, task), frac=frac, steps=steps, seed=seed, top=top,
                         plots=not no_plots, device=device, programs=programs,
                         optimizer=optimizer_changes(lr, weight_decay),
                         llc=LLCConfig(**llc_given) if llc_given is not None else None,
                         llc_checkpoints=llc_checkpoints)  # fmt: skip
    if resume:
        given = {"model": (model, lambda c: c.model.name), "frac": (frac, lambda c: c.train_frac),
                 "seed": (seed, lambda c: c.seed),
                 "lr": (lr, lambda c: c.lr), "weight_decay": (weight_decay, lambda c: c.weight_decay)}  # fmt: skip
        config = stored_config(ctx, run_dir, task, given)
        if config is None:  # nothing trained there yet: a fresh run in the same folder
            resume, force = False, True
            config = train_config(task, options)
        else:
            config = config.replace(**({"steps": steps} if steps is not None else {}))
    else:
        if out is not None and not force and run_dir.is_dir() and any(run_dir.iterdir()):
            raise UserError(
                f"run folder {run_dir} already exists; use --force to overwrite it "
                "or --resume to continue it"
            )
        config = train_config(task, options)

    display = RunDisplay(config.steps)
    hooks = Hooks(on_stage=display.on_stage, on_synth=display.forward,
                  on_step=display.forward, on_compare=display.forward)  # fmt: skip
    try:
        with open_run(run_dir, resume=resume, force=force, unique=out is None) as run_dir:
            err_console.print(task_header(task))
            report = run_pipeline(task, run_dir, options, hooks, resume=resume,
                                  force=force).to_json()  # fmt: skip
            metrics = read_metrics(run_dir)
            if html is not None:
                write_html(report, task, metrics, html, top)
    except KeyboardInterrupt:  # Ctrl-C, and the trainer's TrainingInterrupted
        display.close()
        if display.stage is None:
            err_console.print("[yellow]Interrupted[/] before the run started; nothing was written.")
        elif (run_dir / STATE).exists():
            err_console.print(
                f"[yellow]Interrupted[/] during {display.stage}; the partial run is in {run_dir}."
            )
            again = ["--top", str(top)] if top != TOP else []
            again += ["--no-plots"] if no_plots else []
            again += ["--html", str(html)] if html is not None else []
            again += ["--device", device] if device != "cpu" else []
            again += [arg for text in programs for arg in ("--program", text)]
            again += llc_args(ctx)
            print_resume_hint(resume_command(task, run_dir, "run", again))
        else:
            err_console.print(f"[yellow]Interrupted[/] during {display.stage}; nothing was kept.")
        ctx.exit(130)
    except TrainingDiverged as err:
        raise click.ClickException(f"{err} (run folder: {run_dir})") from None
    except MemoryError:
        raise UserError(f"out of memory during {display.stage}") from None
    except OSError as err:  # a full disk or a vanished folder while drawing or writing
        raise UserError(describe_os_error(err, err.filename or run_dir, "writing")) from None
    finally:  # before any message: a live display would draw over it
        display.close()

    if as_json:
        print_json(report)
        return
    render_report(report, console, task, metrics, top)
    print_advice(advice(task, report.get("train") or {}, run_dir, "run"))
    if html is not None:
        console.print(f"[dim]HTML report:[/] {html}")
