"""``synthcmp align``: train many seeds (and architectures) of one task and say what converges.

Thin, like every command: check the options, train the runs (:func:`neural.seeds.train_seeds`:
one batched model per architecture on a GPU, one process per core on the CPU) into ordinary
run folders inside one align folder, hand them to :func:`compare.universality.align_runs`,
then render the result and draw its plots. ``--runs`` skips the training and aligns runs that
exist. Everything a user can get wrong is checked before any folder is made.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import click

from synthcmp.ui import (
    MODELS,
    UserError,
    build,
    check_steps,
    console,
    device_option,
    err_console,
    frac_option,
    json_option,
    optimizer_changes,
    optimizer_options,
    out_option,
    print_json,
    task_header,
    task_spec_options,
    top_option,
    train_frac,
)
from taskcore.errors import TaskError
from taskcore.files import describe_os_error

MARKER = ".synthcmp-align"
RESULT = "align.json"
MAX_SEEDS = 1024
CHECKPOINTS = 12  # per run: enough for compare's progress measures, not 80 × every seed


def parse_models(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in names if m not in MODELS]
    if not names or bad:
        raise UserError(f"--models must be a comma-separated list of {', '.join(MODELS)}; got {text!r}")
    if len(set(names)) != len(names):
        raise UserError(f"--models names a model twice: {text!r}")
    return names


def find_runs(paths: tuple[str, ...]) -> list[Path]:
    """Each ``--runs`` path is a run folder, or a folder whose subfolders are run folders (an
    earlier align's): the run folders, in order, each once."""
    from neural.store import CONFIG

    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if not path.is_dir():
            raise UserError(f"--runs {text}: no such folder")
        if (path / CONFIG).exists():
            found.append(path)
            continue
        inside = sorted(p for p in path.iterdir() if p.is_dir() and (p / CONFIG).exists())
        if not inside:
            raise UserError(f"--runs {text}: neither a run folder nor a folder of run folders")
        found += inside
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    if len(unique) < 2:
        raise UserError(f"align needs at least 2 runs; --runs gave {len(unique)}")
    return list(unique.values())


def default_folder(name: str, size: str, root: Path = Path("runs")) -> Path:
    return root / f"align-{name}-{size}-{time.strftime('%Y%m%d-%H%M%S')}"


def given(ctx: click.Context, *names: str) -> list[str]:
    """The options among ``names`` that the user typed."""
    source = click.core.ParameterSource.COMMANDLINE
    flag = {"table_path": "--table"}
    return [flag.get(n, "--" + n.replace("_", "-")) for n in names
            if ctx.get_parameter_source(n) == source]  # fmt: skip


@click.command()
@task_spec_options(seed_help="The first seed S (it also seeds a lookup table and the noise).")
@click.option("--seeds", type=int, default=8, show_default=True,
              help="Runs per model: seeds S … S+N−1.")  # fmt: skip
@click.option("--models", default="transformer,mlp", show_default=True,
              help="Architectures to train, comma-separated.")  # fmt: skip
@frac_option
@optimizer_options
@click.option("--steps", type=int, default=None, help="Most training steps [default: the model's].")
@click.option("--runs", "runs", multiple=True, metavar="DIR",
              help="Align these runs instead of training: a run folder, or a folder of run "
                   "folders such as an earlier align's (repeatable).")  # fmt: skip
@top_option("Programs to match per run.", default=3)
@out_option("Align folder for the runs, align.json and plots [default: a fresh folder under "
            "runs/].")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite an existing align folder (one synthcmp made).")
@device_option("torch device for training; on a GPU the seeds train as one batched model.")
@click.option("--workers", type=int, default=None,
              help="Runs trained (on the CPU) and analysed at once, a process each [default: one per core].")  # fmt: skip
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@json_option("align.json")
@click.pass_context
def align(ctx: click.Context, task_name, p, expr, group, table_path, noise, seed, seeds,
          models, frac, lr, weight_decay, steps, runs, top, out, force, device, workers,
          no_plots, as_json) -> None:  # fmt: skip
    """Train many seeds of TASK (and several architectures) and compare what they learned:
    each run's program, key frequencies and Clock/Pizza algorithm; every layer's similarity
    between runs (CKA, mutual nearest neighbours, each beside a shuffled-input baseline); the
    same at the level of the program's node; and a verdict built from those numbers.

    \b
    Examples:
      synthcmp align modadd --p 59 --seeds 8 --out runs/u59   (transformer and MLP)
      synthcmp align lookup --p 23 --seeds 4   nothing to align: a negative verdict
      synthcmp align --runs runs/u59           align the runs of an earlier align again
    """
    from neural.train import TrainingDiverged, check_device

    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    check_steps(steps)
    check_device(device)
    if runs:
        clash = [*(["TASK"] if task_name else []),
                 *given(ctx, "p", "expr", "group", "table_path", "noise", "seed", "seeds",
                        "models", "frac", "lr", "weight_decay", "steps", "device")]  # fmt: skip
        if clash:
            verb = "does" if len(clash) == 1 else "do"
            raise UserError(f"--runs aligns existing runs: {', '.join(clash)} {verb} not apply to them")
        run_dirs = find_runs(runs)
        from compare.universality import check_runs

        check_runs(run_dirs)  # every folder readable, one task: before anything is made
        plan = None
    else:
        if not (task_name or expr or table_path):
            raise UserError("give a task to train (a name, --expr or --table), or --runs DIR to "
                            "align runs that exist")  # fmt: skip
        if not 1 <= seeds <= MAX_SEEDS:
            raise UserError(f"--seeds must be in 1..{MAX_SEEDS}, got {seeds}")
        names = parse_models(models)
        if seeds * len(names) < 2:
            raise UserError("align needs at least 2 runs: use --seeds 2 or more, or two --models")
        task = build(task_name, p, expr, group, table_path, noise, seed)
        plan = training_plan(task, names, seeds, seed, frac, steps, device,
                             optimizer_changes(lr, weight_decay))  # fmt: skip
        run_dirs = None

    name, size = (plan.name, plan.size) if plan is not None else ("runs", f"{len(run_dirs)}")
    folder = Path(out) if out is not None else default_folder(name, size)
    if out is not None and not force and folder.is_dir() and any(folder.iterdir()):
        raise UserError(f"align folder {folder} already exists; use --force to replace it "
                        f"(one synthcmp made), or --runs {folder} to align its runs again")  # fmt: skip
    try:
        result, folder, seconds = _align(plan, run_dirs, folder, out is None, force, top,
                                         seed, workers, not no_plots)  # fmt: skip
    except KeyboardInterrupt:
        err_console.print(f"[yellow]Interrupted[/]; finished runs are kept in {folder} "
                          f"(align them with: synthcmp align --runs {folder}).")  # fmt: skip
        ctx.exit(130)
    except TrainingDiverged as err:
        raise click.ClickException(f"{err} (align folder: {folder})") from None
    except MemoryError:
        raise UserError("out of memory while aligning") from None
    except OSError as err:
        raise UserError(describe_os_error(err, err.filename or folder, "writing")) from None

    if as_json:
        print_json(result)
        return
    from synthcmp.render.align import render_align

    render_align(result, console)
    console.print(" · ".join(f"{k} {v:.1f} s" for k, v in seconds.items()), style="dim")
    files = [folder / RESULT] + [folder / f for f in sorted(result.get("plots", []))]
    console.print("[dim]files:[/] " + "  ".join(str(f) for f in files), soft_wrap=True)


class Plan:
    """The runs to train: one config per (model, seed), and where each goes."""

    def __init__(self, task, name: str, size: str, configs: dict[str, list]):
        self.task, self.name, self.size, self.configs = task, name, size, configs

    def folders(self, root: Path) -> dict[str, list[Path]]:
        return {m: [root / f"{m}-s{c.seed}" for c in cs] for m, cs in self.configs.items()}


def training_plan(task, names, seeds, first_seed, frac, steps, device, optimizer) -> Plan:
    from neural.config import default_config
    from taskcore.table import check_seed

    try:
        check_seed(first_seed)
        check_seed(first_seed + seeds - 1)
    except TaskError as err:
        raise UserError(f"--seed: {err}") from None
    changes = {"train_frac": train_frac(frac, task), "device": device, "checkpoints": CHECKPOINTS,
               **optimizer, **({"steps": steps} if steps is not None else {})}  # fmt: skip
    configs = {m: [default_config(m, seed=s, **changes)
                   for s in range(first_seed, first_seed + seeds)] for m in names}  # fmt: skip
    size = f"p{task.p}" if task.p is not None else f"n{task.n}"
    return Plan(task, task.name, size, configs)


def _align(plan, run_dirs, folder, unique, force, top, seed, workers, plots):
    from compare.universality import align_runs
    from synthcmp.render.align import AlignDisplay
    from taskcore.files import atomic_write_json, exclusive_lock, owned_folder

    seconds: dict[str, float] = {}

    def keep(path: Path) -> bool:  # a failed align keeps the folder if a run in it finished
        return any((d / "summary.json").exists() for d in path.iterdir() if d.is_dir())

    stamp = "synthcmp align folder\n"
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(owned_folder(folder, MARKER, stamp, force=force,
                                                  unique=unique, keep=keep, what="align folder"))  # fmt: skip
        display = stack.enter_context(AlignDisplay(err_console))
        if plan is not None:
            err_console.print(task_header(plan.task))
            t0 = time.perf_counter()
            run_dirs = train_all(plan, folder, display, workers)
            seconds["train"] = time.perf_counter() - t0
        else:
            for d in run_dirs:  # compare may write synth.json: no other process in there
                stack.enter_context(exclusive_lock(d, "run folder", required=False))
        t0 = time.perf_counter()
        display.stage("align", f"analysing {len(run_dirs)} runs and aligning them")
        result = align_runs(run_dirs, top_k=top, seed=seed, on_progress=display.on_progress,
                            workers=cpu_workers(workers))  # fmt: skip
        seconds["analyse and align"] = time.perf_counter() - t0
        document = result.to_json()
        if plots:
            t0 = time.perf_counter()
            display.stage("plots", "drawing the plots")
            from synthcmp.render.figures.align import draw_all

            document["plots"] = [p.name for p in draw_all(document, folder)]
            seconds["plots"] = time.perf_counter() - t0
        document["seconds"] = {**document.get("seconds", {}), **seconds}
        atomic_write_json(folder / RESULT, document)
    seconds["total"] = sum(v for k, v in seconds.items())
    return document, folder, seconds


def cpu_workers(workers: int | None) -> int:
    """--workers, or one per CPU core this process may use."""
    if workers is not None:
        return workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def train_all(plan: Plan, folder: Path, display, workers: int | None) -> list[Path]:
    from neural.seeds import batched_default, train_seeds
    from synthcmp.commands.train import describe_config

    folders = plan.folders(folder)
    out: list[Path] = []
    for model, configs in plan.configs.items():
        device = configs[0].device
        batched = batched_default(device)
        n_workers = 1 if batched else cpu_workers(workers)
        how = (f"as one batched model on {device}" if batched
               else f"{min(n_workers, len(configs))} at a time, one process each"
               if n_workers > 1 else "one after another")  # fmt: skip
        display.stage("train", f"{len(configs)} {model} seeds, {how}")
        err_console.print(f"[dim]{describe_config(configs[0])}[/]")
        display.start_training(model, configs)
        train_seeds(plan.task, configs, folders[model], on_step=display.on_seed_step,
                    batched=batched, workers=n_workers)  # fmt: skip
        display.end_training()
        out += folders[model]
    return out
