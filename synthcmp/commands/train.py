"""``synthcmp train``: train a network on a task and store the run.

Thin, like every command: build the task and a :class:`~neural.config.TrainConfig` from
the options, call :func:`neural.train.train` with a live display as its callback, render
the summary. torch is imported inside the command, so ``synthcmp --help`` stays fast.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import click

from synthcmp.ui import (
    UserError,
    check_steps,
    console,
    device_option,
    err_console,
    frac_option,
    json_option,
    model_for,
    model_option,
    optimizer_changes,
    optimizer_options,
    out_option,
    print_json,
    task_header,
    task_options,
    train_frac,
)
from taskcore.table import Task


def default_run_dir(task: Task, seed: int, root: Path = Path("runs")) -> Path:
    """The name of a fresh folder, such as ``runs/modadd-p97-s0-20260101-120000``.

    Opened with ``open_run(..., unique=True)``, which claims it atomically and takes
    ``…-2``, ``…-3`` if two runs start in the same second."""
    size = f"p{task.p}" if task.p is not None else f"n{task.n}"
    return root / f"{task.name}-{size}-s{seed}-{time.strftime('%Y%m%d-%H%M%S')}"


def task_args(task: Task) -> list[str]:
    """The command-line arguments that name ``task`` again."""
    spec = task.spec
    args = []
    if spec is None or spec.name is not None:
        args.append(task.name)
    if spec is not None and spec.expr is not None:
        args += ["--expr", spec.expr]
    if spec is not None and spec.group is not None:
        args += ["--group", spec.group]
    if spec is not None and spec.table_path is not None:
        args += ["--table", spec.table_path]
    if task.p is not None and spec is not None and spec.table_path is None and task.group is None:
        args += ["--p", str(task.p)]
    if spec is not None and spec.noise:
        args += ["--noise", str(spec.noise)]
    if spec is not None and spec.seed:
        args += ["--seed", str(spec.seed)]
    return args


def resume_command(task: Task, run_dir: Path, command: str = "train", options=()) -> str:
    """The command line that continues this run (for the Ctrl-C message and advice)."""
    return shlex.join(["synthcmp", command, *task_args(task), *options, "--out", str(run_dir),
                       "--resume"])  # fmt: skip


def advice(task: Task, summary: dict, run_dir: Path, command: str) -> list[str]:
    """What to try when a run did not generalize, as commands that exist; none when it
    grokked, or for a random table (where memorization is the right answer)."""
    if summary.get("grok_step") is not None or task.name == "lookup":
        return []
    steps = int(summary.get("steps") or 0)
    config = summary.get("config") or {}
    more = ["--steps", str(max(2 * steps, 1000))]
    lines = [
        f"Not grokked in {steps:,} steps. Grokking can come late; continue training with:",
        resume_command(task, run_dir, command, more),
    ]
    frac = float(config.get("train_frac") or 0.3)
    if frac < 0.8:
        again = ["synthcmp", command, *task_args(task), "--frac", f"{min(0.8, frac + 0.3):.2g}"]
        if summary.get("memorization_step") is None:  # weight decay fought the memorizing
            again += ["--weight-decay", "1"]
        lines += ["or give it more training pairs (a new run):", shlex.join(again)]
    return lines


def print_advice(lines: list[str]) -> None:
    for i, line in enumerate(lines):  # commands on lines of their own, never wrapped
        if i % 2:
            err_console.print(line, soft_wrap=True, markup=False, highlight=False)
        else:
            err_console.print(f"[yellow]{line}[/]" if i == 0 else line)


def describe_config(config) -> str:
    m = config.model
    return (
        f"{m.kind} d_model {m.d_model} d_mlp {m.d_mlp}"
        + (f" heads {m.n_heads}" if m.kind == "transformer" else "")
        + f" · lr {config.lr:g} wd {config.weight_decay:g}"
        + (f" · grokfast λ {config.grokfast_lambda:g}" if config.grokfast_lambda else "")
        + f" · {config.train_frac:.0%} train · {config.steps} steps max"
    )


def print_resume_hint(command: str) -> None:
    """The command on a line of its own, never wrapped (a wrapped one cannot be pasted)."""
    err_console.print("Continue with:")
    err_console.print(command, soft_wrap=True, markup=False, highlight=False)


def stored_config(ctx: click.Context, run_dir: Path, task: Task, given: dict):
    """The settings of the run to resume, checked before anything starts: it has a readable
    resume point, was trained on ``task``, and the ``given`` options (--model, --frac) agree.

    None for a run folder that synthcmp made but where nothing was trained yet (a run killed
    while it searched programs or before its first checkpoint): there is nothing to continue,
    so the run starts afresh in it."""
    from neural import store

    if not (run_dir / store.STATE).exists():
        if run_dir.is_dir() and store.nothing_trained(run_dir):
            err_console.print(f"[yellow]Nothing was trained in {run_dir} yet[/]: starting the run "
                              "afresh there.")  # fmt: skip
            return None
        raise UserError(f"nothing to resume in {run_dir}: no {store.STATE} there")
    stored = store.read_config(run_dir)
    for name, (mine, theirs) in given.items():
        from_command_line = ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        if from_command_line and mine != theirs(stored):
            option = "--" + name.replace("_", "-")
            raise UserError(f"{run_dir} was trained with {option} {theirs(stored)}, not {mine}")
    store.check_resumable(run_dir, task, stored)
    store.load_state(run_dir)
    return stored


@click.command()
@task_options
@model_option
@frac_option
@optimizer_options
@click.option("--steps", type=int, default=None, help="Most training steps (default: the model's).")
@out_option("Run folder [default: a fresh folder under runs/].")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--force", is_flag=True, help="Overwrite an existing run folder.")
@device_option()
@json_option("the JSON summary")
@click.pass_context
def train(
    ctx: click.Context,
    task: Task,
    seed: int,
    model: str | None,
    frac: float | None,
    lr: float | None,
    weight_decay: float | None,
    steps: int | None,
    out: str | None,
    resume: bool,
    force: bool,
    device: str,
    as_json: bool,
) -> None:
    """Train a network on TASK's training split until it groks (or the steps run out).

    \b
    Examples:
      synthcmp train modadd --p 97                 groks in seconds
      synthcmp train lookup --p 23                 memorizes; test stays at chance
      synthcmp train modadd --out runs/a --resume  continue an interrupted run
    """
    from neural import store
    from neural.config import default_config
    from neural.train import TrainingDiverged, TrainingInterrupted, check_device
    from neural.train import train as train_network
    from synthcmp.render.train import TrainDisplay, summary_table

    check_steps(steps)
    if resume and out is None:
        raise UserError("--resume needs --out: the folder of the run to continue")
    if resume and force:
        raise UserError("--resume and --force contradict each other; pick one")
    check_device(device)  # before any folder is made
    changes = {"train_frac": train_frac(frac, task), "seed": seed, "device": device,
               **optimizer_changes(lr, weight_decay)}  # fmt: skip
    if steps is not None:
        changes["steps"] = steps
    config = default_config(model_for(model, task), **changes)
    run_dir = Path(out) if out is not None else default_run_dir(task, seed)

    if resume:  # the stored settings win; only --steps and --device may change
        given = {"model": (model, lambda c: c.model.name), "frac": (frac, lambda c: c.train_frac),
                 "seed": (seed, lambda c: c.seed),
                 "lr": (lr, lambda c: c.lr), "weight_decay": (weight_decay, lambda c: c.weight_decay)}  # fmt: skip
        stored = stored_config(ctx, run_dir, task, given)
        if stored is None:  # nothing trained there yet: a fresh run in the same folder
            resume, force = False, True
        else:
            config = stored.replace(device=device, **({"steps": steps} if steps is not None else {}))

    try:
        with store.open_run(run_dir, resume=resume, force=force, unique=out is None) as run_dir:
            if not as_json:
                err_console.print(task_header(task))
                err_console.print(f"[dim]{describe_config(config)} · {run_dir}[/]")
            with TrainDisplay(err_console, config.steps) as display:
                result = train_network(
                    task, config, on_step=display.on_step, run_dir=run_dir, resume=resume
                )
    except TrainingInterrupted as stop:
        err_console.print(
            f"[yellow]Interrupted[/] at step {stop.step}; the run is saved in {run_dir}."
        )
        print_resume_hint(resume_command(task, run_dir))
        ctx.exit(130)
    except TrainingDiverged as err:
        raise click.ClickException(str(err)) from None

    summary = result.to_json()
    if as_json:
        print_json(summary)
    else:
        console.print(summary_table(summary))
        print_advice(advice(task, summary, run_dir, "train"))
