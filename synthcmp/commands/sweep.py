"""``synthcmp sweep``: grids of runs (``sweep run``) and what they show (``sweep report``)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import click

from synthcmp.ui import (
    UserError,
    console,
    device_option,
    err_console,
    json_option,
    out_option,
    print_json,
)
from taskcore.files import check_writable_name, describe_os_error

SPEC_HELP = """\b
SPEC is a TOML file of lists to cross, e.g.
  tasks = ["modadd", "modsub"]
  exprs = ["x**2 + y"]  # tasks of your own
  p = 47
  frac = [0.1, 0.3, 0.5]
  seed = [0, 1]
  steps = [3000, 30000] # budgets: a larger one continues the smaller one's run
  # also: model, weight_decay, lr, stages, top, plots, llc
(examples/sweeps/small.toml, power47.toml and ladder.toml are ready to run)."""


@click.group()
def sweep() -> None:
    """Grids of runs: each cell a full run, one row each in a SQLite database.

    \b
    Examples:
      synthcmp sweep run examples/sweeps/small.toml --out sweeps/small
      synthcmp sweep report sweeps/small --html small.html
      synthcmp sweep run examples/sweeps/power.toml --out sweeps/power --ray auto
    """


@sweep.command("run", epilog=SPEC_HELP)
@click.argument("spec_path", metavar="SPEC")
@out_option("The sweep folder: results.db, one run folder per cell. Rerun into the same "
            "folder to finish what is missing.", required=True, metavar="DIR")  # fmt: skip
@click.option("--workers", type=int, default=None,
              help="Cells at once [default: one per CPU core; with --ray, the cluster's CPUs].")  # fmt: skip
@click.option("--ray", "ray_address", metavar="auto|local|ADDRESS", default=None,
              help="Run each cell as a Ray task: 'auto' joins the cluster this machine is part of "
                   "('ray start --head' first), 'local' starts one here, or a ray:// address. "
                   "Needs pip install \"synthcmp[ray]\".")  # fmt: skip
@device_option("torch device for training (with --ray and cuda, each cell takes ¼ GPU, each "
               "batch of seeds a whole one).")
@click.option("--batch-seeds/--no-batch-seeds", default=None,
              help="Train the cells that differ only in their seed as one batched model; their "
                   "rows are the ones they give run one by one [default: on with a GPU "
                   "--device, off on the CPU].")  # fmt: skip
@click.option(
    "--retry-failed", is_flag=True, help="Also run again the cells recorded with an error."
)
@json_option("the summary, as JSON,")
@click.pass_context
def run(ctx: click.Context, spec_path, out, workers, ray_address, device, batch_seeds,
        retry_failed, as_json) -> None:  # fmt: skip
    """Run every cell of SPEC that DIR's database does not hold yet.

    Each cell is a full run (synth, train, compare, as `synthcmp run`) in DIR/runs/; its
    report becomes one row of DIR/results.db as soon as it finishes, so Ctrl-C loses no
    finished cell and rerunning the same command does only the rest. A cell that fails is
    run once more, then recorded with its error.
    """
    from synthcmp.render.sweep import SweepDisplay
    from synthcmp.sweep.driver import check_sweep_dir, run_sweep
    from synthcmp.sweep.executors import LocalPool, RayExecutor
    from synthcmp.sweep.spec import load_spec

    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    spec = load_spec(spec_path)
    if ray_address is not None:
        if not ray_address.strip():
            raise UserError("--ray needs auto, local or a cluster address")
        if importlib.util.find_spec("ray") is None:
            raise UserError('--ray needs Ray, which is not installed: pip install "synthcmp[ray]"')
    else:
        from neural.train import check_device

        check_device(device)  # a cluster's nodes may have what this machine lacks
    folder = Path(out)
    check_sweep_dir(folder)
    cells = spec.cells()
    if ray_address is not None:
        executor = RayExecutor(ray_address, workers, device)
    else:
        executor = LocalPool(workers or os.cpu_count() or 1)
    display = SweepDisplay(err_console, spec.name, executor.description)
    try:
        with display:
            result = run_sweep(spec, folder, executor, display.on_progress, device=device,
                               retry_failed=retry_failed, cells=cells,
                               batch_seeds=batch_seeds if batch_seeds is not None
                               else not device.startswith("cpu"))  # fmt: skip
    except KeyboardInterrupt:
        display.close()
        from synthcmp.sweep.db import DB_FILE, Database

        recorded = 0
        if (folder / DB_FILE).is_file():
            with Database(folder / DB_FILE, readonly=True) as db:
                keys = set(db.statuses())
            recorded = sum(c.key in keys for c in cells)
        err_console.print(
            f"[yellow]Interrupted.[/] {recorded:,} of {len(cells):,} cells are recorded in "
            f"{folder / 'results.db'}; the same command runs the other {len(cells) - recorded:,}:",
            soft_wrap=True,
        )
        err_console.print(f"  synthcmp sweep run {spec_path} --out {out}", soft_wrap=True,
                          highlight=False, markup=False)  # fmt: skip
        ctx.exit(130)
    except OSError as err:  # a full disk or a vanished folder
        raise UserError(describe_os_error(err, err.filename or folder, "writing")) from None

    if as_json:
        print_json(result.to_json())
        return
    rate = f" ({result.cells_per_minute:.1f} cells/min)" if result.cells_per_minute else ""
    err_console.print(
        f"[bold]done[/]: {result.ok:,} cells finished, {result.failed:,} failed, "
        f"{result.recorded:,} were already recorded; {result.seconds:.0f} s{rate}",
        soft_wrap=True,
    )
    for failure in result.failures:
        err_console.print(f"[red]✗[/] {failure['cell']}: {failure['error']}", soft_wrap=True)
    err_console.print(f"[dim]results:[/] {result.database}   "
                      f"[dim]report:[/] synthcmp sweep report {out}", soft_wrap=True)  # fmt: skip


@sweep.command("report")
@click.argument("folder", metavar="DIR")
@json_option("the report, as JSON (one row per cell, then the figures' numbers),")
@click.option("--html", "html_path", metavar="FILE", default=None,
              help="Also write a self-contained HTML page with the figures.")  # fmt: skip
@click.option("--export", "export_path", metavar="FILE", default=None,
              help="Also write every row to FILE.csv or FILE.parquet (needs pyarrow) for notebooks.")  # fmt: skip
@click.option("--no-plots", is_flag=True, help="Draw no figures (DIR/figures/ is left as it is).")
@click.option("--force", is_flag=True,
              help="Overwrite an existing --export file, and an --html file synthcmp did not write.")  # fmt: skip
def report(folder, as_json, html_path, export_path, no_plots, force) -> None:
    """Summarize the sweep in DIR from its database: Power et al.'s figure for both learners
    (the smallest training fraction at which each generalizes, per operation and step
    budget), the training curves of the operations the network never learned, phase
    diagrams (grok step over fraction × weight decay), each cell's matched program and
    description-length ladder, and what each learner paid to find each program against
    its length. Figures go to DIR/figures/.
    """
    from synthcmp.render.html import check_html_target
    from synthcmp.sweep.db import DB_FILE, Database, export
    from synthcmp.sweep.driver import is_running
    from synthcmp.sweep.report import build_report

    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"sweep folder {folder} does not exist or is not a folder")
    db_path = root / DB_FILE
    if not os.path.lexists(db_path):
        raise UserError(
            f"{folder} holds no sweep database ({DB_FILE}); "
            f"run 'synthcmp sweep run SPEC --out {folder}' first"
        )
    html = Path(html_path) if html_path is not None else None
    if html is not None:
        if not html_path:
            raise UserError("--html must name a file")
        check_html_target(html, force)
    target = Path(export_path) if export_path is not None else None
    if target is not None:
        if target.suffix.lower() not in (".csv", ".parquet"):
            raise UserError(f"--export {export_path}: the file name must end in .csv or .parquet")
        if not target.parent.is_dir():
            raise UserError(f"--export {export_path}: folder {target.parent} does not exist")
        check_writable_name(target, "--export")
        if os.path.lexists(target):
            if target.is_symlink() or not target.is_file():
                raise UserError(f"--export {export_path} exists and is not a regular file; "
                                "refusing to replace it")  # fmt: skip
            if not force:
                raise UserError(f"--export {export_path} exists; use --force to overwrite it")
        if target.suffix.lower() == ".parquet" and importlib.util.find_spec("pyarrow") is None:
            raise UserError("--export to Parquet needs pyarrow (pip install pyarrow); "
                            "or export to a .csv file")  # fmt: skip
    with Database(db_path, readonly=True) as db:
        rows, sweeps = db.rows(), db.sweeps()
    result = build_report(rows, dir=str(root), database=str(db_path), sweeps=sweeps,
                          running=is_running(root))  # fmt: skip
    if not no_plots and rows:
        from synthcmp.render.figures.sweep import draw_figures

        figures = root / "figures"
        if figures.is_symlink():
            raise UserError(f"{figures} is a link; the figures are drawn only into a folder of "
                            "the sweep's own (remove the link, or --no-plots)")  # fmt: skip
        try:
            figures.mkdir(exist_ok=True)
        except OSError as err:
            raise UserError(describe_os_error(err, figures, "writing") +
                            " (--no-plots draws none)") from None  # fmt: skip
        if not os.access(figures, os.W_OK):
            raise UserError(f"cannot write figures into {figures}: not writable "
                            "(--no-plots draws none)")  # fmt: skip
        result.figures = draw_figures(result, figures)
    if target is not None:
        export(rows, target)
    document = result.to_json()
    if html is not None:
        from synthcmp.render.sweep import write_html

        write_html(document, html)
    if as_json:
        print_json(document)
        return
    from synthcmp.render.sweep import render_report

    render_report(document, console)
    if target is not None:
        console.print(f"[dim]rows exported:[/] {target}")
    if html is not None:
        console.print(f"[dim]HTML report:[/] {html}")
