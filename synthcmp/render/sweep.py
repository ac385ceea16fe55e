"""How a sweep looks in the terminal: a live progress display while it runs, and its report.

Pure rendering of plain data: :class:`SweepDisplay` reads the driver's
:class:`~synthcmp.sweep.driver.SweepProgress`; :func:`render_report` reads the JSON of a
:class:`~synthcmp.sweep.report.SweepReport` (``synthcmp sweep report --json``), whose numbers
all come from the database. Every table has a one-line dim legend under it.

Each finished, retried or failed cell is one line; on a terminal a live status under them
shows the bar (cells finished of those to run, running, failed, elapsed, ETA) and the last
finished cell's verdict. Elsewhere (a log, a test) only the lines are written.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from synthcmp.render.compare import DASH, fmt, panel_width
from taskcore.events import Grade

GRADES = {Grade.IMPLEMENTS: "implements", Grade.PARTIAL: "partly",
          Grade.OTHER: "generalizes, no match", Grade.MEMORIZATION: "memorization"}  # how each reads


def clock(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def said(row: dict) -> str:
    """One finished cell in a few words: what the network did, what it matched, the program."""
    if row.get("status") == "error":
        return f"error: {row.get('error') or DASH}"
    parts = []
    if row.get("grokked") is not None:
        if row["grokked"]:
            parts.append(f"grokked at step {row['grok_step']:,}")
        elif row.get("memorized"):
            parts.append(f"memorized, test {fmt(row.get('test_acc'), '.0%')}")
        else:
            parts.append(f"did not fit (train {fmt(row.get('train_acc'), '.0%')})")
    if row.get("match_grade") is not None:
        grade = GRADES.get(row["match_grade"], row["match_grade"])
        program = row.get("match_program")
        shown = program if program and program != "table" else ""
        parts.append(f"{grade} {shown}".strip() if row["match_grade"] != Grade.MEMORIZATION else grade)
    if row.get("synth_kind") is not None:
        exact = " (exact on test)" if row.get("synth_exact_test") else ""
        parts.append(f"synth: {row.get('synth_program')}{exact}")
    return " · ".join(parts) or "done"


class SweepDisplay:
    """The driver's ``on_progress``, rendered on ``console`` (stderr)."""

    def __init__(self, console: Console, name: str, executor: str):
        self.console, self.name, self.executor = console, name, executor
        self.live: Live | None = None

    def __enter__(self) -> SweepDisplay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def on_progress(self, pr) -> None:
        if pr.event == "start":
            recorded = f", {pr.recorded:,} already recorded" if pr.recorded else ""
            self.console.print(
                f"[bold]sweep {self.name}[/]: {pr.total:,} cells{recorded}; "
                f"running {pr.to_run:,} on {self.executor}"
            )
            if pr.to_run and self.console.is_terminal:
                self.live = Live(self.status(pr), console=self.console, refresh_per_second=4,
                                 transient=True)  # fmt: skip
                self.live.start()
            return
        if pr.event in ("ok", "error", "retry"):
            self.console.print(self.line(pr), soft_wrap=True)  # above the live bar, if any
        if pr.event == "trained":
            self.console.print(Text(f"  {pr.label}: trained; each cell is finished next",
                                    style="dim"), soft_wrap=True)  # fmt: skip
        if self.live is not None:
            self.live.update(self.status(pr))

    def line(self, pr) -> Text:
        cell = pr.label
        count = f"[{pr.finished:,}/{pr.to_run:,}]"
        if pr.event == "retry":
            return Text(f"{count} ↻ {cell}: failed ({pr.message}); trying once more",
                        style="yellow")  # fmt: skip
        if pr.event == "error":
            return Text(f"{count} ✗ {cell}: failed twice; recorded with its error: {pr.message}",
                        style="red")  # fmt: skip
        text = Text(f"{count} ", style="dim")
        text.append("✓ ", style="green")
        text.append(f"{cell}: {said(pr.last or {})}")
        seconds = (pr.last or {}).get("seconds")
        if seconds is not None:
            text.append(f" ({seconds:.1f} s)", style="dim")
        return text

    def status(self, pr) -> Group:
        bar = ProgressBar(total=max(pr.to_run, 1), completed=pr.finished, width=30)
        counts = Text(
            f" {pr.finished:,}/{pr.to_run:,} cells · {pr.running} running · "
            f"{pr.failed} failed · {clock(pr.elapsed)} elapsed · ETA {clock(pr.eta)}"
        )
        head = Table.grid()
        head.add_row(bar, counts)
        last = Text("last: ", style="dim")
        if pr.last is not None:
            last.append(f"{pr.label}: {said(pr.last)}")
        else:
            last.append("waiting for the first cell…")
        return Group(head, last)


# ---------------------------------------------------------------------------------------
# The report


def _legend(text: str) -> Text:
    return Text(text, style="dim")


def _frac(v) -> str:
    return DASH if v is None else f"{v:g}"


def _setting(fig: dict) -> str:
    if not fig["network"]:
        return "synthesizer only: no network trained in these cells"
    return (f"{fig['model']} · weight decay {fig['weight_decay']:g} · lr {fig['lr']:g} · "
            f"budget {fig['steps']:,} steps")  # fmt: skip


def op_label(row: dict, with_p: bool) -> str:
    p = f" p={row['p']}" if with_p and row.get("p") is not None else ""
    return f"{row['task']}{p}"


def power_tables(fig: dict, width: int) -> Group:
    """The two learners' smallest fractions, then the per-fraction counts behind them."""
    rows = fig["rows"]
    with_p = len({r["p"] for r in rows}) > 1
    main = Table(box=None, header_style="bold", pad_edge=False)
    main.add_column("operation", no_wrap=True)
    main.add_column("f(x, y)", overflow="fold")
    main.add_column("program (synth)", overflow="fold")
    main.add_column("L(P)", justify="right", no_wrap=True)
    main.add_column("network", justify="right", no_wrap=True)
    main.add_column("synth", justify="right", no_wrap=True)
    for r in rows:
        never = ("never ↑" if r.get("rising_at") else "never") if r["counts"] else DASH
        main.add_row(
            op_label(r, with_p), r["formula"].replace(" (mod p)", ""), r["program"] or DASH,
            fmt(r["program_bits"], ".2f"),
            (_frac(r["network_frac"]) if r["network_frac"] is not None else never)
            if fig["network"] else "not run",
            (_frac(r["synth_frac"]) if r["synth_frac"] is not None else never)
            if fig["synth"] else "not run",
        )  # fmt: skip
    legend = _legend(
        "network / synth — the smallest training fraction at which, in most seeds, the network "
        "grokked (test ≥ 99% within the step budget) / the synthesizer's best program is exact "
        "on the test pairs; never — at no fraction swept (↑: some networks were still improving "
        "when the budget ran out) · L(P) — the program's bits under the grammar; rows by L(P)"
    )
    counts = Table(box=None, header_style="bold", pad_edge=False)
    counts.add_column("operation", no_wrap=True)
    for f in fig["fracs"]:
        counts.add_column(f"{f:g}", justify="right", no_wrap=True)
    for r in rows:
        by = {c["frac"]: c for c in r["counts"]}
        cells = []
        for f in fig["fracs"]:
            c = by.get(f)
            if c is None:
                cells.append("")
                continue
            net = DASH if c["network"] is None else str(c["network"])
            syn = DASH if c["synth"] is None else str(c["synth"])
            fail = f" ✗{c['failed']}" if c["failed"] else ""
            fail += f" ↑{c['rising']}" if c.get("rising") else ""
            n, m = c["network_of"], c["synth_of"]
            if n == m or not m or not n:
                cells.append(f"{net}|{syn}/{max(n, m)}{fail}")
            else:
                cells.append(f"{net}/{n}|{syn}/{m}{fail}")
        counts.add_row(op_label(r, with_p), *cells)
    counts_legend = _legend(
        "each column a training fraction; a|b/n — of n cells that finished, a networks "
        "grokked and b best programs were exact on test (– not run; a/n|b/m where the counts "
        "differ); ✗k — k cells failed; ↑k — k networks that did not grok were still improving "
        "at the end of the budget (test accuracy up 2 points over its last quarter)"
    )
    body = [main, legend, Text(""), counts, counts_legend]
    rising = [f"{op_label(r, with_p)} (at {', '.join(_frac(f) for f in r['rising_at'])})"
              for r in rows if r.get("rising_at") and r["network_frac"] is None]  # fmt: skip
    if fig["network"]:
        body += [Text(""), Text(
            f"Still improving at {fig['steps']:,} steps, never grokked: " + "; ".join(rising)
            if rising else f"No operation that never grokked was still improving at "
                           f"{fig['steps']:,} steps.",
            style="yellow" if rising else "dim")]  # fmt: skip
    return Group(*body)


def never_evidence(final_test_acc: float | None, grokked: int, cells: int) -> str:
    """What the cells of a never-learned operation reached: the final test accuracy of those
    that did not grok, and — where a minority did — how many, so that "never" (in most seeds)
    is not read as "in no seed"."""
    best = f"final test ≤ {final_test_acc:.0%}" if final_test_acc is not None else ""
    if not grokked:
        return best
    others = "the other's" if cells - grokked == 1 else "the others'"
    return f"{grokked} of {cells} grokked, not most" + (f"; {others} {best}" if best else "")


def never_text(never: list[dict], steps: int, drawn: bool) -> Text:
    """The operations no network learned (in most seeds) at the largest budget, each with its
    evidence: the test accuracy at the largest fraction and whether it was still rising."""
    parts = []
    for n in never:
        evidence = never_evidence(n["final_test_acc"], n.get("grokked", 0), len(n["runs"]))
        moving = (f", {n['rising']} of {len(n['runs'])} still improving" if n["rising"]
                  else ", none still improving")  # fmt: skip
        parts.append(f"{n['task']} ({evidence} at {_frac(n['frac'])}{moving})")
    where = " — their training curves: never.png" if drawn else ""
    return Text(f"Learned (in most seeds) at no fraction within {steps:,} steps, the largest "
                "budget: " + "; ".join(parts) + where + ".", style="yellow")  # fmt: skip


def phase_table(diagrams: list[dict]) -> Group:
    """Every phase diagram as rows (operation × weight decay) over training fractions."""
    fracs = sorted({f for d in diagrams for f in d["fracs"]})
    with_p = len({d["p"] for d in diagrams}) > 1
    varied = len({(d["model"], d["lr"], d["steps"]) for d in diagrams}) > 1
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("operation", no_wrap=True)
    if varied:
        t.add_column("model, lr, steps", no_wrap=True)
    t.add_column("wd", justify="right", no_wrap=True)
    for f in fracs:
        t.add_column(f"{f:g}", justify="right", no_wrap=True)
    for d in diagrams:
        points = {(pt["frac"], pt["weight_decay"]): pt for pt in d["points"]}
        for wd in d["weight_decays"]:
            cells = []
            for f in fracs:
                pt = points.get((f, wd))
                if pt is None:
                    cells.append("")
                elif pt["state"] == "grokked":
                    cells.append(Text(f"{pt['grok_step']:,.0f}", style="green"))
                elif pt["state"] == "memorized":
                    cells.append(Text("mem", style="yellow"))
                elif pt["state"] == "did not fit":
                    cells.append(Text("no fit", style="red"))
                elif pt["state"] == "mixed":
                    cells.append(Text("mixed", style="magenta"))
                else:
                    cells.append(Text("error", style="red"))
            label = op_label(d, with_p)
            extra = [f"{d['model']}, {d['lr']:g}, {d['steps']:,}"] if varied else []
            t.add_row(label, *extra, f"{wd:g}", *cells)
    legend = _legend(
        "columns: training fraction; wd — weight decay; a number — most seeds grokked, at this "
        "median step; mem — most memorized the training pairs but did not grok within the "
        "budget; no fit — most did not fit the training pairs; mixed — no outcome in most seeds"
    )
    return Group(t, legend)


def _sorted(cells: list[dict]) -> list[dict]:
    return sorted(cells, key=lambda c: (_task_order(c["task"]), c["p"] or 0, c["model"],
                                        c["weight_decay"], c["lr"], c["steps"], c["frac"],
                                        c["seed"]))  # fmt: skip


def _task_order(task: str) -> int:
    from synthcmp.sweep.report import _task_order as order

    return order(task)


def _lead(cells: list[dict]) -> tuple[Table, list[str]]:
    """A table whose first columns name the cell: task, the axes that vary, fraction, seed."""
    vary = [k for k in ("p", "model", "weight_decay", "lr", "steps")
            if len({c[k] for c in cells}) > 1]  # fmt: skip
    short = {"p": "p", "weight_decay": "wd", "lr": "lr", "model": "model", "steps": "steps"}
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("task", no_wrap=True)
    for k in vary:
        t.add_column(short[k], justify="right", no_wrap=True)
    t.add_column("frac", justify="right", no_wrap=True)
    t.add_column("seed", justify="right", no_wrap=True)
    return t, vary


def _lead_cells(c: dict, vary: list[str]) -> list[str]:
    varied = [f"{c[k]:g}" if isinstance(c[k], float) else str(c[k]) for k in vary]
    return [c["task"], *varied, _frac(c["frac"]), str(c["seed"])]


def cells_table(cells: list[dict]) -> Group:
    """Per cell: what the network did and which program it implements."""
    t, vary = _lead(cells)
    for name in ("mem", "grok", "test"):
        t.add_column(name, justify="right", no_wrap=True)
    t.add_column("network matches", overflow="fold", ratio=1)
    with_llc = any(c.get("llc_trusted") is not None for c in cells)
    if with_llc:
        t.add_column("λ̂", justify="right", no_wrap=True)
    t.add_column("s", justify="right", no_wrap=True)
    for c in _sorted(cells):
        llc = [] if not with_llc else [
            DASH if c.get("llc_trusted") is None else fmt(c.get("llc"), ",.1f")
            if c.get("llc_trusted") else "untrusted"]  # fmt: skip
        if c["status"] != "ok":
            t.add_row(*_lead_cells(c, vary), "", "", "", Text("error (see below)", style="red"),
                      *([""] if with_llc else []), "")  # fmt: skip
            continue
        grade = c.get("match_grade")
        if grade is None:
            match = DASH
        elif grade in (Grade.MEMORIZATION, Grade.OTHER):
            match = GRADES[grade]
        else:
            match = f"{GRADES.get(grade, grade)} {c.get('match_program') or ''}".strip()
            if grade == Grade.PARTIAL and c.get("behaviour") is not None:
                match += f" ({c['behaviour']:.0%})"
        t.add_row(*_lead_cells(c, vary), fmt(c.get("memorization_step"), ","),
                  fmt(c.get("grok_step"), ","), fmt(c.get("test_acc"), ".1%"), match,
                  *llc, fmt(c.get("seconds"), ".1f"))  # fmt: skip
    legend = _legend(
        "mem / grok — memorization / grok step (– never, within the budget); test — final test "
        "accuracy; network matches — the program the network implements (partly: on most "
        "held-out pairs, with its agreement on all inputs), or memorization; "
        + ("λ̂ — local learning coefficient at the final checkpoint (untrusted: a chain "
           "diverged, λ̂ < 0 or it moved with the draws; synthcmp explain llc); " if with_llc
           else "")
        + "s — the cell's wall seconds"
    )
    return Group(t, legend)


def bits_table(cells: list[dict]) -> Group:
    """Per cell: the synthesizer's best program and the ladder's bits."""
    t, vary = _lead(cells)
    t.add_column("synth's best program", overflow="fold", ratio=1)
    t.add_column("L(P)", justify="right", no_wrap=True)
    for name in ("program", "circuit", "table"):
        t.add_column(name, justify="right", no_wrap=True)
    for c in _sorted(c for c in cells if c["status"] == "ok"):
        program = c.get("synth_program") or DASH
        if c.get("synth_kind") == "program" and not c.get("synth_exact_test"):
            program += " (not exact on test)"
        t.add_row(*_lead_cells(c, vary), program,
                  fmt(c.get("synth_program_bits"), ".2f") if c.get("synth_kind") == "program"
                  else DASH,
                  *(fmt(c.get(k), ",.1f") for k in ("bits_shortest_program",
                                                    "bits_extracted_circuit",
                                                    "bits_memorized_table")))  # fmt: skip
    legend = _legend(
        "synth's best program — the shortest two-part code for the training pairs (table: "
        "none shorter than the table); L(P) — its bits under the grammar; program, circuit, "
        "table — the ladder: bits of the training labels coded by the shortest program, by the "
        "network's extracted circuit (– none found) and as the table, each plus its exceptions"
    )
    return Group(t, legend)


def _si(v) -> str:
    """A count in engineering notation: 3.2k, 4.1M, 7.0G, 1.2T."""
    if v is None:
        return DASH
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{suffix}"
    return f"{v:.0f}"


def _secs(v) -> str:
    """Seconds to two significant digits, never in exponent notation: 0.0015, 2.6, 41."""
    if v is None:
        return DASH
    return f"{v:.0f}" if v >= 10 else f"{v:.1f}" if v >= 1 else f"{v:.2g}"


def cost_table(rows: list[dict]) -> Group:
    """Per operation: how often each learner found the program, and what it paid (medians)."""
    with_p = len({r["p"] for r in rows}) > 1
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("operation", no_wrap=True)
    t.add_column("L(P)", justify="right", no_wrap=True)
    for name in ("synth", "cand.", "s", "network", "FLOPs", "steps", "s", "faster"):
        t.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        t.add_row(
            op_label(r, with_p), fmt(r["program_bits"], ".1f"),
            f"{r['synth_found']}/{r['cells']}", _si(r["synth_programs"]),
            _secs(r["synth_seconds"]), f"{r['network_found']}/{r['cells']}",
            _si(r["network_flops"]), _si(r["network_steps"]), _secs(r["network_seconds"]),
            r["faster"] or DASH,
        )  # fmt: skip
    legend = _legend(
        "per operation, over the cells that ran both learners (the largest budget of each): "
        "synth / network — cells where the synthesizer's best program was exact on test / the "
        "network grokked; cand., s — the median candidates built and seconds until the "
        "best program appeared; FLOPs, steps, s — the median FLOPs (matrix products of forward "
        "and backward, counted from the model's shapes), steps and seconds of training until the "
        "grok; medians over the cells that found it; faster — the learner with fewer median "
        "seconds where both found it (seconds depend on the machine; candidates and FLOPs do not)"
    )
    return Group(t, legend)


def failures_table(cells: list[dict]) -> Group:
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("cell", overflow="fold")
    t.add_column("tries", justify="right", no_wrap=True)
    t.add_column("error", overflow="fold", style="red")
    for c in cells:
        t.add_row(c["cell"], str(c["attempts"]), c.get("error") or DASH)
    legend = _legend("cells that failed on every try (tries) and the last error (tracebacks "
                     "in DIR/workers.log); 'synthcmp sweep run SPEC --out DIR --retry-failed' "
                     "runs them again")  # fmt: skip
    return Group(t, legend)


def render_report(report: dict, console: Console) -> None:
    width = panel_width(console)
    cells = report["cells"]

    def show(body, title: str) -> None:
        console.print(Panel(body, title=title, title_align="left", width=width))

    head = Text()
    head.append(f"{report['dir']}", style="bold")
    head.append(f": {len(cells):,} cells recorded ({report['ok']:,} finished, "
                f"{report['failed']:,} failed) · database {report['database']}")  # fmt: skip
    last = report.get("last_sweep")
    if last:
        head.append(f"\nlast sweep run: {last['name']}, {last['cells']:,} cells in its spec, "
                    f"started {last['started']}")  # fmt: skip
    if report.get("running"):
        head.append("\na sweep is running in this folder: these numbers are partial",
                    style="yellow")  # fmt: skip
    show(head, "sweep")
    if not cells:
        console.print("No cell is recorded yet: run 'synthcmp sweep run SPEC --out DIR'.")
        return
    figures = report["power"]
    for i, fig in enumerate(figures, 1):
        count = f" ({i} of {len(figures)})" if len(figures) > 1 else ""
        setting = Text(_setting(fig), style="bold")
        body = [setting, Text(""), power_tables(fig, width)]
        never = [n for n in report.get("never") or [] if (n["model"], n["weight_decay"],
                 n["lr"], n["steps"]) == (fig["model"], fig["weight_decay"], fig["lr"],
                 fig["steps"])]  # fmt: skip
        if never:
            body.append(never_text(never, fig["steps"], "never" in (report.get("figures") or {})))
        show(Group(*body), f"1 · Power et al.'s figure, both learners{count}")
    if report["phases"]:
        show(phase_table(report["phases"]), "2 · phase diagrams: fraction × weight decay")
    if any("train" in c["stages"].split("+") for c in cells):
        show(cells_table(cells), "3 · each cell: the network and the program it matches")
    if report["ok"]:
        show(bits_table(cells), "4 · each cell: the shortest program and the ladder's bits")
    if report.get("cost_rows"):
        show(cost_table(report["cost_rows"]), "5 · what each learner paid to find the program")
    failed = [c for c in cells if c["status"] != "ok"]
    if failed:
        show(failures_table(failed), "failed cells")
    if report.get("figures"):
        console.print("[dim]figures:[/] " + "  ".join(report["figures"].values()), soft_wrap=True)


CAPTIONS = {
    "power": (
        "Power et al.'s Fig. 1 for both learners. For each operation, ordered by the length "
        "of the synthesizer's program (top: shortest), the smallest training fraction at which "
        "the network generalizes (blue: test accuracy ≥ 99% within the step budget, in most "
        "seeds) and at which the synthesizer's best program is exact on the held-out pairs "
        "(green). A hatched bar: not at any fraction swept."
    ),
    "cost": (
        "What each learner paid to find each operation's program, against the program's length "
        "L(P), on log-log axes, one point per operation, training fraction and seed (at the "
        "largest budget). Left: seconds, both learners (green: the synthesizer, until its best "
        "program appeared; blue: the network, until it grokked). Middle: the synthesizer's "
        "candidates built; right: the network's training FLOPs. A hollow triangle did not find "
        "it: it sits at what that learner spent in all, so the true cost lies above it."
    ),
    "never": (
        "The evidence for each operation the network learned, in most seeds, at no fraction within "
        "the largest budget: the training curves of its cells at the largest fraction swept, one "
        "colour per seed (a minority of them may have grokked; the panel's title says how many) — "
        "train loss (solid) and test loss (dashed) on the left log axis, test accuracy "
        "(dotted) on the right, over the steps on a log axis; each line is the median over "
        "log-spaced bins of steps, since the raw curves can oscillate from step to step. A network that memorized has a "
        "train loss near zero and a test loss that stays high; a flat test curve at the end "
        "says a larger budget is unlikely to help, a rising one that it might."
    ),
    "llc": (
        "The local learning coefficient λ̂ at each cell's final checkpoint over the training "
        "fraction: a line per operation through the median of its seeds (each seed a dot; a "
        "ring where most seeds grokked). Where the network finds the program, λ̂ should be "
        "low; where it only memorizes, high."
    ),
    "phases": (
        "Phase diagrams, one per operation: training fraction across, weight decay up. A "
        "coloured point grokked in most seeds, its colour and number the median grok step "
        "(log scale); light grey: memorized the training pairs but did not grok within the "
        "budget; dark grey: did not even fit them."
    ),
}


def write_html(report: dict, path: Path) -> Path:
    """The report as one self-contained page: the terminal report, then the figures inlined."""
    from synthcmp.render.html import figure, recorded_html, write_page

    body = recorded_html(lambda console: render_report(report, console))
    shown = []
    for name, file in (report.get("figures") or {}).items():
        if Path(file).is_file():
            text = CAPTIONS.get(name.split("-")[0], name)
            shown.append(figure(len(shown) + 1, name, Path(file), text))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return write_page(path, f"synthcmp · sweep {report['dir']}", body, shown,
                      note=f"Written {stamp} from {report['database']}.")  # fmt: skip
