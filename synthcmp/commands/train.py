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

from synthcmp.ui import UserError, console, err_console, print_json, task_header, task_options
from taskcore.table import DEFAULT_TRAIN_FRAC, Task


def default_run_dir(task: Task, seed: int, root: Path = Path("runs")) -> Path:
    """A fresh folder such as ``runs/modadd-p97-s0-20260101-120000`` (never an existing one)."""
    size = f"p{task.p}" if task.p is not None else f"n{task.n}"
    base = root / f"{task.name}-{size}-s{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def resume_command(task: Task, run_dir: Path) -> str:
    """The command line that continues this run (for the Ctrl-C message)."""
    spec = task.spec
    args = ["synthcmp", "train"]
    if spec is None or spec.name is not None:
        args.append(task.name)
    if spec is not None and spec.expr is not None:
        args += ["--expr", spec.expr]
    if spec is not None and spec.table_path is not None:
        args += ["--table", spec.table_path]
    if task.p is not None and spec is not None and spec.table_path is None:
        args += ["--p", str(task.p)]
    if spec is not None and spec.noise:
        args += ["--noise", str(spec.noise)]
    if spec is not None and spec.seed:
        args += ["--seed", str(spec.seed)]
    args += ["--out", str(run_dir), "--resume"]
    return shlex.join(args)


@click.command()
@task_options
@click.option(
    "--model",
    type=click.Choice(["transformer", "mlp"]),
    default="transformer",
    show_default=True,
    help="Network architecture.",
)
@click.option(
    "--frac", type=float, default=DEFAULT_TRAIN_FRAC, show_default=True, help="Training fraction."
)
@click.option("--steps", type=int, default=None, help="Most training steps (default: the model's).")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Run folder (default: a fresh folder under runs/).",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--force", is_flag=True, help="Overwrite an existing run folder.")
@click.option(
    "--device", default="cpu", show_default=True, help="torch device, e.g. cuda (if available)."
)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON summary on stdout.")
@click.pass_context
def train(
    ctx: click.Context,
    task: Task,
    seed: int,
    model: str,
    frac: float,
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
    import json

    from neural import store
    from neural.config import TrainConfig, default_config
    from neural.train import TrainingDiverged, TrainingInterrupted
    from neural.train import train as train_network
    from synthcmp.render.train import TrainDisplay, summary_table

    if steps is not None and steps < 0:
        raise UserError(f"--steps must be ≥ 0, got {steps}")
    if resume and out is None:
        raise UserError("--resume needs --out: the folder of the run to continue")
    if resume and force:
        raise UserError("--resume and --force contradict each other; pick one")
    changes = {"train_frac": frac, "seed": seed, "device": device}
    if steps is not None:
        changes["steps"] = steps
    config = default_config(model, **changes)
    run_dir = Path(out) if out is not None else default_run_dir(task, seed)

    if resume:  # the stored settings win; only --steps and --device may change
        config_path = run_dir / store.CONFIG
        if not config_path.exists():
            raise UserError(f"nothing to resume in {run_dir}: no {store.CONFIG} there")
        stored = TrainConfig.from_json(json.loads(config_path.read_text()))
        given = ctx.get_parameter_source
        for name, mine, theirs in (
            ("--model", model, stored.model.kind),
            ("--frac", frac, stored.train_frac),
        ):
            if given(name.lstrip("-")) == click.core.ParameterSource.COMMANDLINE and mine != theirs:
                raise UserError(f"{run_dir} was trained with {name} {theirs}, not {mine}")
        config = stored.replace(device=device, **({"steps": steps} if steps is not None else {}))

    if not as_json:
        err_console.print(task_header(task))
        m = config.model
        err_console.print(
            f"[dim]{m.kind} d_model {m.d_model} d_mlp {m.d_mlp}"
            + (f" heads {m.n_heads}" if m.kind == "transformer" else "")
            + f" · lr {config.lr:g} wd {config.weight_decay:g}"
            + (f" · grokfast λ {config.grokfast_lambda:g}" if config.grokfast_lambda else "")
            + f" · {config.train_frac:.0%} train · {config.steps} steps max · {run_dir}[/]"
        )
    try:
        with TrainDisplay(err_console, config.steps) as display:
            result = train_network(
                task, config, on_step=display.on_step, run_dir=run_dir, resume=resume, force=force
            )
    except TrainingInterrupted as stop:
        err_console.print(
            f"[yellow]Interrupted[/] at step {stop.step}; the run is saved in {run_dir}.\n"
            f"Continue with: {resume_command(task, run_dir)}"
        )
        ctx.exit(130)
    except TrainingDiverged as err:
        raise click.ClickException(str(err)) from None
    except store.RunError as err:
        raise UserError(str(err)) from None

    summary = result.to_json()
    if as_json:
        print_json(summary)
    else:
        console.print(summary_table(summary))
