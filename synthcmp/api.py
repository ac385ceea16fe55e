"""The comparison from Python, for notebooks: :func:`run` is ``synthcmp run`` as a function.

::

    import synthcmp
    report = synthcmp.run("modsq", p=31)
    report.synth.best.expr              # 'x**2 + y**2'
    report.circuit.node                 # 'x**2 + y**2'
    report.circuit.embedding_node       # 'x**2'
    report.match.verdict                # 'implements x**2 + y**2 (behaviour 99.6%)'
    [(r.rung, r.bits) for r in report.ladder]

It runs the same stages as the command (:mod:`synthcmp.pipeline`) into a run folder and
returns the typed :class:`~synthcmp.pipeline.Report`, whose JSON is that folder's
``report.json``. Nothing is printed; a mistake is a :class:`~taskcore.errors.TaskError`.
"""

from __future__ import annotations

from pathlib import Path

from synthcmp.pipeline import Report


def run(
    task: str | None = "modadd",
    *,
    p: int = 97,
    expr: str | None = None,
    group: str | None = None,
    table: str | Path | None = None,
    noise: float = 0.0,
    seed: int = 0,
    model: str | None = None,
    frac: float | None = None,
    steps: int | None = None,
    lr: float | None = None,
    weight_decay: float | None = None,
    top: int = 5,
    programs: tuple[str, ...] = (),
    out: str | Path | None = None,
    plots: bool = False,
    device: str = "cpu",
    force: bool = False,
    llc: bool = False,
) -> Report:
    """Synthesize, train, compare (and, with ``plots``, draw) one task on one shared split.

    The task is a built-in ``task`` name, or ``expr`` (with ``group``: a word in that group),
    or a ``table`` file, as on the command line; the other arguments are ``synthcmp run``'s
    options with its defaults. ``out`` is the run folder (default: a fresh one under runs/);
    an existing one is replaced only with ``force`` and only if synthcmp made it. ``llc``
    also estimates the local learning coefficient over training with the calibrated sampler
    (``report.compare.llc``).
    """
    from neural.llc import LLCConfig
    from neural.store import open_run
    from synthcmp.commands.train import default_run_dir
    from synthcmp.pipeline import RunOptions, run_pipeline
    from synthcmp.ui import model_for
    from taskcore.registry import build_task
    from taskcore.table import TaskSpec

    spec = TaskSpec(name=None if expr is not None or table is not None else task, p=p,
                    expr=expr, table_path=None if table is None else str(table), noise=noise,
                    seed=seed, group=group)  # fmt: skip
    built = build_task(spec)
    optimizer = {k: v for k, v in (("lr", lr), ("weight_decay", weight_decay)) if v is not None}
    options = RunOptions(model=model_for(model, built), frac=frac, steps=steps, seed=seed, top=top, plots=plots,
                         device=device, programs=tuple(programs), optimizer=optimizer,
                         llc=LLCConfig() if llc else None)  # fmt: skip
    run_dir = Path(out) if out is not None else default_run_dir(built, seed)
    with open_run(run_dir, force=force, unique=out is None) as run_dir:
        return run_pipeline(built, run_dir, options, force=force)
