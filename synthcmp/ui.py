"""Shared pieces of the terminal front end: consoles, the user-error type, task options.

Only the shell (this package) prints. Messages and progress go to stderr through
``err_console``; tables meant to be read go to stdout; ``--json`` puts the JSON document
alone on stdout.
"""

from __future__ import annotations

import functools
import json
import math
import sys

import click
from rich.console import Console

from taskcore.groups import GROUP_NAMES
from taskcore.registry import build_task
from taskcore.table import DEFAULT_P, Task, TaskSpec

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class UserError(click.ClickException):
    """A user's mistake: printed as one ``Error: ...`` line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        lines = [line.strip() for line in self.format_message().splitlines() if line.strip()]
        click.echo(f"Error: {' '.join(lines)}", err=True)


SEED_HELP = "Seed for the split, the lookup table, the noise and the network."


TOP, MAX_TOP = 5, 100  # programs kept and matched: the default, and the most that makes sense


def top_option(help: str, default: int = TOP):
    """``--top K``, declared once (synth, compare, run, align; a sweep spec's ``top`` has the
    same bounds): 1 … :data:`MAX_TOP`."""
    return click.option("--top", type=click.IntRange(1, MAX_TOP), default=default,
                        show_default=True, help=help)  # fmt: skip


def out_option(help: str, **options):
    """``--out DIR``, declared once for every command that writes a folder. An empty name is
    refused: it would be the working folder, and --force would then clear it."""

    def check(ctx, param, value):
        if value is None and param.required:  # newer click calls back before it checks
            raise click.MissingParameter(ctx=ctx, param=param)
        if value is not None and not str(value).strip():
            raise click.BadParameter("must name a folder (an empty name is the working folder)")
        return value

    return click.option("--out", type=click.Path(file_okay=False), callback=check, help=help,
                        **{"default": None, **options})  # fmt: skip


def task_spec_options(seed_help: str = SEED_HELP):
    """The options that describe a task — TASK, --p, --expr, --group, --table, --noise,
    --seed — passed on as they were typed (``task_name, p, expr, group, table_path, noise,
    seed``); :func:`build` makes the task from them."""

    def decorate(func):
        for option in reversed([
            click.argument("task_name", metavar="TASK", required=False),
            click.option("--p", "p", type=int, default=DEFAULT_P, show_default=True,
                         help="Modulus for modular tasks (n = p symbols)."),
            click.option("--expr", "expr", metavar="EXPR",
                         help="Custom task: an expression in x, y mod p, e.g. 'x*y + 3*x', "
                              "'x / y'."),
            click.option("--group", "group", metavar="GROUP",
                         help=f"With --expr: read the expression in this group, one of "
                              f"{GROUP_NAMES}, e.g. --expr 'x * y * x' --group S4."),
            click.option("--table", "table_path", metavar="FILE",
                         type=click.Path(dir_okay=False),
                         help="Custom task: a CSV of x,y,out rows or an n×n matrix of outputs."),
            click.option("--noise", type=float, default=0.0, show_default=True,
                         help="Replace this fraction of the training labels by random wrong "
                              "ones (seeded); test labels stay clean."),
            click.option("--seed", type=int, default=0, show_default=True, help=seed_help),
        ]):  # fmt: skip
            func = option(func)
        return func

    return decorate


def build(task_name, p, expr, group, table_path, noise, seed) -> Task:
    """The task those options describe. A --p typed for a task whose size is not a modulus
    (a --table, a group) is a mistake too: it would be ignored."""
    spec = TaskSpec(name=task_name, p=p, expr=expr, table_path=table_path, noise=noise,
                    seed=seed, group=group)  # fmt: skip
    task = build_task(spec)  # a TaskError is the group's one-line Error (synthcmp.cli)
    ctx = click.get_current_context(silent=True)
    typed = ctx is not None and ctx.get_parameter_source("p") == click.core.ParameterSource.COMMANDLINE
    if typed and (table_path is not None or task.group is not None):
        what = (f"a --table task: its size is the table's, n = {task.n}" if table_path is not None
                else f"a task in {task.group}: its size is the group's order, {task.n}")  # fmt: skip
        raise UserError(f"--p does not apply to {what}")
    return task


def task_options(func):
    """Add :func:`task_spec_options`; the wrapped command receives a built :class:`Task` as
    ``task`` and the ``seed``."""

    @task_spec_options()
    @functools.wraps(func)
    def wrapper(task_name, p, expr, group, table_path, noise, seed, **kwargs):
        if kwargs.get("frac") is not None:
            check_frac(kwargs["frac"])
        task = build(task_name, p, expr, group, table_path, noise, seed)
        if kwargs.get("frac") is not None:
            check_frac(kwargs["frac"], task)
        return func(task=task, seed=seed, **kwargs)

    return wrapper


# the bounds of the training options, declared once for the command line and sweep specs;
# MODELS are neural.config.DEFAULTS' names (a test holds them equal: importing it loads torch)
MODELS = ("transformer", "constant-attention", "mlp")
MAX_STEPS = 10**9
LR_MAX = 10.0  # lr in (0, LR_MAX]
WEIGHT_DECAY_MAX = 1000.0  # weight decay in [0, WEIGHT_DECAY_MAX]


def lr_ok(lr: float) -> bool:
    return math.isfinite(lr) and 0 < lr <= LR_MAX


def weight_decay_ok(wd: float) -> bool:
    return math.isfinite(wd) and 0 <= wd <= WEIGHT_DECAY_MAX


def steps_ok(steps: int) -> bool:
    return 0 <= steps <= MAX_STEPS


def check_steps(steps: int | None) -> int | None:
    if steps is not None and not steps_ok(steps):
        raise UserError(f"--steps must be in 0..{MAX_STEPS:,}, got {steps}")
    return steps


def json_option(what: str):
    """``--json``: ``what`` alone on stdout (messages and progress stay on stderr)."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print only {what} on stdout.")


def device_option(help: str = "torch device for training, e.g. cuda (if available)."):
    """``--device``, declared once: checked before any folder is made."""
    return click.option("--device", default="cpu", show_default=True, help=help)


def optimizer_options(func):
    """--lr and --weight-decay: the optimizer's two numbers that decide whether it groks."""
    func = click.option(
        "--weight-decay", "weight_decay", type=float, default=None, metavar="WD",
        help="AdamW weight decay [default: the model's]. Lower it for tasks with many "
             "pairs to memorize (e.g. --frac 0.8).",
    )(func)  # fmt: skip
    return click.option("--lr", type=float, default=None,
                        help="Learning rate [default: the model's].")(func)  # fmt: skip


def optimizer_changes(lr: float | None, weight_decay: float | None) -> dict:
    """The given --lr / --weight-decay as TrainConfig changes, checked."""
    changes = {}
    if lr is not None:
        if not lr_ok(lr):
            raise UserError(f"--lr must be in (0, {LR_MAX:g}], got {lr}")
        changes["lr"] = lr
    if weight_decay is not None:
        if not weight_decay_ok(weight_decay):
            raise UserError(f"--weight-decay must be in [0, {WEIGHT_DECAY_MAX:g}], got {weight_decay}")
        changes["weight_decay"] = weight_decay
    return changes


model_option = click.option(
    "--model", type=click.Choice(MODELS), default=None,
    help="Network: transformer; constant-attention (the same, every query attending equally: "
         "Zhong et al.'s Pizza); mlp [default: transformer; mlp for group tasks (Chughtai et al.)].",
)  # fmt: skip


def model_for(model: str | None, task: Task) -> str:
    """``--model`` as given, or the task's default (:func:`neural.config.default_model`)."""
    from neural.config import default_model

    return model or default_model(task)


FRAC_HELP = (
    "Training fraction, shared by both learners [default: 0.3, or more where 30% is under "
    "480 pairs; `synthcmp tasks` shows it]."
)
frac_option = click.option("--frac", type=float, default=None, help=FRAC_HELP)


def train_frac(frac: float | None, task: Task) -> float:
    """``--frac`` as given, or the task's default (:func:`taskcore.table.default_train_frac`)."""
    from taskcore.table import default_train_frac

    return check_frac(frac, task) if frac is not None else default_train_frac(task)


def check_frac(frac: float, task: Task | None = None) -> float:
    """--frac in (0, 1) and, for ``task``, leaving at least one pair on each side of the split
    (the split rounds frac · |domain|; it would otherwise quietly clamp to one pair)."""
    if not 0.0 < frac < 1.0:
        raise UserError(f"--frac must be in (0, 1), got {frac}")
    if task is not None:
        size = task.domain_size
        k = round(frac * size)
        if not 1 <= k <= size - 1:
            side = "training" if k < 1 else "held-out"
            raise UserError(f"--frac {frac:g} leaves no {side} pair of {task.name}'s {size:,}: use "
                            f"a fraction in [{1.5 / size:.3g}, {1 - 1.5 / size:.3g}]")  # fmt: skip
    return frac


def print_json(document: dict) -> None:
    """The JSON document alone on stdout (for scripts)."""
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def task_header(task: Task) -> str:
    return f"[bold]{task.name}[/]: {task.formula}   n = {task.n}, domain {task.domain_size}"


# SGLD's calibrated settings (docs/llc.md) as neural.llc.LLCConfig and compare.llc have them:
# named here for --help without importing torch (a test holds them equal)
LLC_DEFAULTS = {"chains": 2, "draws": 60, "burnin": 40, "step": 1e-4, "localization": 1000.0}
LLC_CHECKPOINTS = 16
LLC_SETTINGS = (  # (option, LLCConfig field or "checkpoints", type, help)
    ("--llc-checkpoints", "checkpoints", click.IntRange(1, 10_000),
     f"How many checkpoints to estimate λ̂ at: the phases table's, then spread over log(step) "
     f"[default: {LLC_CHECKPOINTS}]."),
    ("--llc-chains", "chains", click.IntRange(1, 64),
     f"SGLD chains per checkpoint [default: {LLC_DEFAULTS['chains']}]."),
    ("--llc-draws", "draws", click.IntRange(2, 100_000),
     f"SGLD draws per chain [default: {LLC_DEFAULTS['draws']}]."),
    ("--llc-burnin", "burnin", click.IntRange(0, 100_000),
     f"SGLD steps per chain before the draws [default: {LLC_DEFAULTS['burnin']}]."),
    ("--llc-step", "step", float, f"SGLD step size ε [default: {LLC_DEFAULTS['step']:g}]."),
    ("--llc-localization", "localization", float,
     f"SGLD localization γ [default: {LLC_DEFAULTS['localization']:g}]."),
    ("--llc-nbeta", "nbeta", float, "SGLD inverse temperature nβ [default: n / log n]."),
)  # fmt: skip


def llc_options(func):
    """``--llc`` and the sampler's settings, declared once (run, compare); any ``--llc-*``
    option turns ``--llc`` on. The command reads them with :func:`llc_settings`."""

    def store(ctx, param, value):
        if value is not None and value is not False:  # 0 is a value (a wrong one)
            ctx.meta.setdefault("llc", {})[param.name] = value

    for flag, name, kind, help in reversed(LLC_SETTINGS):
        func = click.option(flag, name, type=kind, default=None, expose_value=False,
                            callback=store, help=help)(func)  # fmt: skip
    return click.option(
        "--llc", "llc", is_flag=True, expose_value=False, callback=store,
        help="Also estimate the local learning coefficient λ̂ at some checkpoints, beside the "
             "bits (SGLD; see `synthcmp explain llc`). About 4 s a checkpoint at p = 97.",
    )(func)  # fmt: skip


def llc_settings(ctx: click.Context) -> tuple[dict | None, int]:
    """(the LLCConfig fields given, or None without --llc; how many checkpoints)."""
    given = dict(ctx.meta.get("llc", {}))
    if not given:
        return None, LLC_CHECKPOINTS
    given.pop("llc", None)
    for name, low, strict in (("step", 0.0, True), ("localization", 0.0, False),
                              ("nbeta", 0.0, True)):  # fmt: skip
        value = given.get(name)
        if value is not None and not (math.isfinite(value) and (value > low if strict else value >= low)):
            raise UserError(f"--llc-{name} must be {'>' if strict else '≥'} {low:g} and finite, got {value}")
    return given, given.pop("checkpoints", LLC_CHECKPOINTS)


def llc_args(ctx: click.Context) -> list[str]:
    """The --llc options as they were given, to repeat them in a suggested command."""
    given = ctx.meta.get("llc", {})
    flags = {name: flag for flag, name, _, _ in LLC_SETTINGS}
    return (["--llc"] if given else []) + [
        arg for name, value in given.items() if name in flags for arg in (flags[name], f"{value}")
    ]
