"""What a sweep's rows show: Power et al.'s figure for both learners, phase diagrams, and what
each learner paid to find each program.

Everything here is computed from the database rows (:mod:`synthcmp.sweep.db`), so the
terminal report, the JSON, the plots and a notebook reading ``results.db`` agree.

**Power et al.'s figure, for both learners.** Power et al. (2022, Fig. 1) plot, per binary
operation, the smallest training fraction at which the network generalizes. Here each
operation gets two such fractions, on the same splits:

* the **network** generalizes at a fraction when, in most seeds (more than half of the
  cells that finished), it grokked: test accuracy ≥ 99% within the step budget
  (:mod:`taskcore.events`);
* the **synthesizer** generalizes at a fraction when, in most seeds, its best program
  (``programs[0]``, shortest two-part code) is a program, not the table, and is right on
  every held-out pair.

The step budget is part of the setting, so a sweep over budgets draws the figure once per
budget; a network that did not grok but was still improving when its budget ran out
(:func:`taskcore.events.still_rising`) is counted, so the report can say which operations
a larger budget might still reach.

The operations are ordered by the length L(P) of the program the synthesizer found (the one
found exact most often), so the figure reads as data needed against program length.
Rows are grouped by *setting* — model, weight decay, learning rate and step budget — so a
sweep over weight decay gives one figure per value; the modulus is part of the row.

**Phase diagrams** (Liu et al. 2022, "Omnigrok"): per operation, a grid over training
fraction × weight decay; each point says what most seeds did: grokked (the median grok
step of those that did), memorized (train accuracy 100% but no grokking within the
budget), or did not fit (not even the training pairs).

**What each learner paid** (:func:`cost_points`): per cell, at the largest budget of its
family, the synthesizer's candidates built and seconds until its best program appeared, and
the network's FLOPs (:mod:`neural.flops`), seconds and steps until it grokked — or, where a
learner found nothing, everything it spent, marked as not found — against the length L(P) of
the operation's program. Seconds depend on the machine and on what else ran; candidates and
FLOPs do not.

**What never grokked** (:func:`never_learned`): an operation whose networks generalized, in
most seeds, at no fraction within the largest budget is named with its evidence — the
training curves of its cells at the largest fraction swept, how many of them grokked all the
same (a minority), and whether the others were still improving at the end.

**λ̂ against the training fraction** (a spec's ``llc = true``): per operation and setting,
the local learning coefficient at each cell's final checkpoint, over the training fraction
— the weights' measure of complexity beside the fraction at which the network generalizes.
Only trusted estimates count; how many were not is kept beside them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from taskcore import BUILTIN
from taskcore.serial import JsonMixin

GROKKED, MEMORIZED, NOT_FIT, MIXED, FAILED = (
    "grokked", "memorized", "did not fit", "mixed", "error")  # fmt: skip


@dataclass(frozen=True)
class FracCounts(JsonMixin):
    """At one training fraction: of the cells that finished and ran each learner, how many
    generalized (``None``: no cell here ran that learner)."""

    frac: float
    network: int | None  # cells whose network grokked
    network_of: int  # finished cells that trained a network
    synth: int | None  # cells whose best program is exact on the test pairs
    synth_of: int  # finished cells that ran the synthesizer
    failed: int = 0  # cells recorded with an error
    rising: int = 0  # networks that did not grok but were still improving at the budget's end


@dataclass(frozen=True)
class PowerRow(JsonMixin):
    """One operation of Power et al.'s figure: the smallest fraction each learner needs."""

    task: str
    p: int | None
    formula: str
    program: str | None  # the synthesizer's program (the one most often exact on test)
    program_bits: float | None  # its L(P), the grammar's bits
    network_frac: float | None  # smallest fraction where most seeds' networks grokked
    synth_frac: float | None  # smallest fraction where most seeds' best program is exact
    counts: list[FracCounts] = field(default_factory=list)

    @property
    def rising_at(self) -> list[float]:
        """The fractions at which a network that did not grok was still improving when its
        budget ran out: a larger budget might still find the program there."""
        return [c.frac for c in self.counts if c.rising]

    def json_derived(self) -> dict:
        return {"rising_at": self.rising_at}


@dataclass(frozen=True)
class PowerFigure(JsonMixin):
    """The figure for one setting (model, weight decay, lr, step budget)."""

    model: str
    weight_decay: float
    lr: float
    steps: int
    fracs: list[float]
    rows: list[PowerRow]
    network: bool  # did these cells train a network
    synth: bool  # did they run the synthesizer


@dataclass(frozen=True)
class PhasePoint(JsonMixin):
    frac: float
    weight_decay: float
    state: str  # "grokked" | "memorized" | "did not fit" | "error"
    grok_step: float | None  # median grok step of the seeds that grokked (when most did)
    seeds: int
    grokked: int
    memorized: int


@dataclass(frozen=True)
class PhaseDiagram(JsonMixin):
    """Grok step (or memorized / did not fit) over fraction × weight decay, one operation."""

    task: str
    p: int | None
    model: str
    lr: float
    steps: int
    fracs: list[float]
    weight_decays: list[float]
    points: list[PhasePoint]


@dataclass(frozen=True)
class LLCSeries(JsonMixin):
    """λ̂ at the final checkpoint over the training fraction, for one operation and setting:
    per fraction, the seeds' trusted estimates (their median is the curve) and how many
    cells there had no trusted estimate."""

    task: str
    p: int | None
    model: str
    weight_decay: float
    lr: float
    steps: int
    fracs: list[float]
    llc: list[list[float]]  # per fraction, the trusted estimates
    untrusted: list[int]  # per fraction, cells whose estimate was not trusted
    grokked: list[int]  # per fraction, cells that grokked (to read λ̂ beside)


@dataclass(frozen=True)
class CostPoint(JsonMixin):
    """What each learner paid on one cell — the largest budget of its family, which holds the
    smaller ones' runs — to find its answer, or, where it found none, all it spent."""

    task: str
    p: int | None
    frac: float
    seed: int
    model: str
    steps: int  # the network's budget
    program_bits: float | None  # L(P) of the operation's program; None: no program known
    bits_searched: float | None  # how far the search went (where no program is known)
    synth_found: bool  # the best program is exact on the held-out pairs
    synth_programs: int | None  # candidates built: until the best program, or in all
    synth_seconds: float | None
    network_found: bool  # grokked within the budget
    network_flops: float | None  # to the grok, or for the whole budget
    network_seconds: float | None
    network_steps: int | None


@dataclass(frozen=True)
class CostRow(JsonMixin):
    """One operation's costs, as medians over the cells where each learner found it."""

    task: str
    p: int | None
    program_bits: float | None
    cells: int
    synth_found: int
    synth_programs: float | None  # median candidates built to the best program
    synth_seconds: float | None
    network_found: int
    network_flops: float | None  # median FLOPs to the grok
    network_seconds: float | None
    network_steps: float | None
    faster: str | None  # "synth" | "network": lower median seconds where both found it


@dataclass(frozen=True)
class NeverLearned(JsonMixin):
    """An operation whose network grokked at no fraction within the largest budget of its
    setting. The evidence is its training curves at the largest fraction swept — where the
    network had the most data — read from those cells' run folders (``runs``)."""

    task: str
    p: int | None
    model: str
    weight_decay: float
    lr: float
    steps: int  # the largest budget of the setting
    frac: float  # the largest fraction swept
    final_test_acc: float | None  # the highest final test accuracy of those that did not grok
    rising: int  # of those cells, how many were still improving when the budget ran out
    runs: list[str]  # their run folders, relative to the sweep folder
    seeds: list[int]  # the seed of each
    grokked: int = 0  # of those cells, how many grokked: fewer than most, or it would be learned


@dataclass
class SweepReport(JsonMixin):
    """``synthcmp sweep report --json``: one row per cell, then what the rows show."""

    dir: str
    database: str
    cells: list[dict]
    ok: int
    failed: int
    power: list[PowerFigure]
    phases: list[PhaseDiagram]
    llc: list[LLCSeries] = field(default_factory=list)
    cost: list[CostPoint] = field(default_factory=list)
    cost_rows: list[CostRow] = field(default_factory=list)
    never: list[NeverLearned] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    last_sweep: dict | None = None  # the last `sweep run` on this folder: name, started, cells
    running: bool = False  # a sweep holds the folder now: the numbers are partial


def most(count: int, seeds: int) -> bool:
    """Is ``count`` "most seeds"? More than half of the ``seeds`` that finished."""
    return seeds > 0 and 2 * count > seeds


def build_report(rows: list[dict], dir: str = "", database: str = "",
                 sweeps: list[dict] | None = None, running: bool = False) -> SweepReport:  # fmt: skip
    """The report of ``rows``; ``sweeps`` (the database's log of sweep runs) names the last."""
    ok = [r for r in rows if r["status"] == "ok"]
    last = None
    if sweeps:
        last = {k: sweeps[-1][k] for k in ("name", "started", "cells")}
    return SweepReport(
        dir=dir, database=database, cells=rows, ok=len(ok), failed=len(rows) - len(ok),
        power=(figures := power_figures(rows)), phases=phase_diagrams(rows), llc=llc_series(rows),
        cost=(points := cost_points(rows)), cost_rows=cost_rows(points),
        never=never_learned(rows, figures),
        last_sweep=last,
        running=running,
    )  # fmt: skip


def _task_order(task: str) -> int:
    return list(BUILTIN).index(task) if task in BUILTIN else len(BUILTIN)


def power_figures(rows: list[dict]) -> list[PowerFigure]:
    """One :class:`PowerFigure` per setting, its rows ordered by the program's bits."""
    settings: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        settings[(r["model"], r["weight_decay"], r["lr"], r["steps"])].append(r)
    figures = []
    for (model, wd, lr, steps), group in sorted(settings.items()):
        trained = any("train" in r["stages"].split("+") for r in group)
        searched = any("synth" in r["stages"].split("+") for r in group)
        by_op: dict[tuple, list[dict]] = defaultdict(list)
        for r in group:
            by_op[(r["task"], r["p"])].append(r)
        power_rows = [_power_row(task, p, cells) for (task, p), cells in by_op.items()]
        power_rows.sort(key=lambda r: (r.program_bits is None, r.program_bits or 0.0,
                                       _task_order(r.task), r.p or 0))  # fmt: skip
        fracs = sorted({r["frac"] for r in group})
        figures.append(PowerFigure(model, wd, lr, steps, fracs, power_rows, trained, searched))
    return figures


def _power_row(task: str, p, cells: list[dict]) -> PowerRow:
    counts = []
    for frac in sorted({c["frac"] for c in cells}):
        here = [c for c in cells if c["frac"] == frac]
        done = [c for c in here if c["status"] == "ok"]
        nets = [c for c in done if "train" in c["stages"].split("+")]
        searches = [c for c in done if "synth" in c["stages"].split("+")]
        counts.append(FracCounts(
            frac=frac,
            network=sum(bool(c["grokked"]) for c in nets) if nets else None,
            network_of=len(nets),
            synth=sum(bool(c["synth_exact_test"]) for c in searches) if searches else None,
            synth_of=len(searches), failed=len(here) - len(done),
            rising=sum(bool(c.get("test_acc_rising")) and not c["grokked"] for c in nets),
        ))  # fmt: skip

    def smallest(learner: str) -> float | None:
        return next((c.frac for c in counts if getattr(c, learner) is not None
                     and most(getattr(c, learner), getattr(c, learner + "_of"))), None)  # fmt: skip

    exact = [c for c in cells if c["status"] == "ok" and c["synth_exact_test"]]
    program = bits = None
    if exact:
        tally = Counter(c["synth_program"] for c in exact)
        program = min(tally, key=lambda e: (-tally[e], min(c["synth_program_bits"] for c in exact
                                                            if c["synth_program"] == e)))  # fmt: skip
        bits = next(c["synth_program_bits"] for c in exact if c["synth_program"] == program)
    info = BUILTIN.get(task)
    return PowerRow(
        task=task, p=p, formula=info.formula if info else task, program=program,
        program_bits=bits, network_frac=smallest("network"), synth_frac=smallest("synth"),
        counts=counts,
    )  # fmt: skip


def never_learned(rows: list[dict], figures: list[PowerFigure]) -> list[NeverLearned]:
    """The operations no network grokked at any fraction, at the largest budget of each
    setting (model, weight decay, lr): smaller budgets are their prefixes, so the largest
    one is the evidence. Each names its cells at the largest fraction swept; ``figures``
    are :func:`power_figures` of the same rows."""
    largest: dict[tuple, int] = {}
    for fig in figures:
        family = (fig.model, fig.weight_decay, fig.lr)
        largest[family] = max(largest.get(family, 0), fig.steps)
    out = []
    for fig in figures:
        if not fig.network or fig.steps != largest[(fig.model, fig.weight_decay, fig.lr)]:
            continue
        for r in fig.rows:
            nets = [c for c in r.counts if c.network_of]
            if r.network_frac is not None or not nets:
                continue
            frac = nets[-1].frac
            cells = [c for c in rows if c["status"] == "ok" and c.get("report") and (c["task"], c["p"], c["model"],
                     c["weight_decay"], c["lr"], c["steps"], c["frac"]) == (r.task, r.p,
                     fig.model, fig.weight_decay, fig.lr, fig.steps, frac)
                     and "train" in c["stages"].split("+")]  # fmt: skip
            cells.sort(key=lambda c: c["seed"])
            accs = [c["test_acc"] for c in cells if c.get("test_acc") is not None
                    and not c["grokked"]]  # fmt: skip
            out.append(NeverLearned(
                task=r.task, p=r.p, model=fig.model, weight_decay=fig.weight_decay, lr=fig.lr,
                steps=fig.steps, frac=frac, final_test_acc=max(accs) if accs else None,
                rising=nets[-1].rising,
                runs=[str(Path(c["report"]).parent) for c in cells],
                seeds=[c["seed"] for c in cells],
                grokked=sum(bool(c["grokked"]) for c in cells),
            ))  # fmt: skip
    return out


def phase_diagrams(rows: list[dict]) -> list[PhaseDiagram]:
    """One diagram per (operation, p, model, lr, step budget) whose cells trained a network."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if "train" in r["stages"].split("+"):
            groups[(r["task"], r["p"], r["model"], r["lr"], r["steps"])].append(r)
    diagrams = []
    for (task, p, model, lr, steps), cells in sorted(
        groups.items(), key=lambda kv: (_task_order(kv[0][0]), kv[0][1] or 0, kv[0][2:])
    ):
        fracs = sorted({c["frac"] for c in cells})
        decays = sorted({c["weight_decay"] for c in cells})
        points = []
        for wd in decays:
            for frac in fracs:
                here = [c for c in cells if c["frac"] == frac and c["weight_decay"] == wd]
                if here:
                    points.append(_phase_point(frac, wd, here))
        diagrams.append(PhaseDiagram(task, p, model, lr, steps, fracs, decays, points))
    return diagrams


def _phase_point(frac: float, wd: float, cells: list[dict]) -> PhasePoint:
    done = [c for c in cells if c["status"] == "ok"]
    grokked = [c["grok_step"] for c in done if c["grokked"]]
    memorized = sum(bool(c["memorized"]) for c in done)
    if not done:
        state, step = FAILED, None
    elif most(len(grokked), len(done)):
        state, step = GROKKED, float(statistics.median(grokked))
    elif most(memorized - len(grokked), len(done)):  # a grokked run memorized too
        state, step = MEMORIZED, None
    elif most(len(done) - memorized, len(done)):  # neither grokked nor fitted the pairs
        state, step = NOT_FIT, None
    else:  # no outcome in most seeds (one grokked, one did not fit, say)
        state, step = MIXED, None
    return PhasePoint(frac, wd, state, step, len(done), len(grokked), memorized)


def llc_series(rows: list[dict]) -> list[LLCSeries]:
    """One series per (operation, p, model, weight decay, lr, step budget) whose cells
    estimated λ̂ (``llc_trusted`` is set, true or false)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["status"] == "ok" and r.get("llc_trusted") is not None:
            groups[(r["task"], r["p"], r["model"], r["weight_decay"], r["lr"], r["steps"])].append(r)
    series = []
    for key, cells in sorted(groups.items(), key=lambda kv: (_task_order(kv[0][0]),
                                                             kv[0][1] or 0, kv[0][2:])):  # fmt: skip
        fracs = sorted({c["frac"] for c in cells})
        at = [[c for c in cells if c["frac"] == f] for f in fracs]
        series.append(LLCSeries(
            *key, fracs=fracs,
            llc=[[c["llc"] for c in here if c["llc_trusted"]] for here in at],
            untrusted=[sum(not c["llc_trusted"] for c in here) for here in at],
            grokked=[sum(bool(c["grokked"]) for c in here) for here in at],
        ))  # fmt: skip
    return series


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def cost_points(rows: list[dict]) -> list[CostPoint]:
    """A point per cell that ran both learners, at the largest budget of its family (the
    smaller budgets' runs are part of it). Its L(P) is the program the synthesizer found for
    that operation (in this cell, or else the one found most often in the sweep)."""
    done = [r for r in rows if r["status"] == "ok"
            and {"synth", "train"} <= set(r["stages"].split("+"))]  # fmt: skip
    largest: dict[tuple, dict] = {}
    for r in done:
        family = (r["task"], r["p"], r["frac"], r["seed"], r["model"], r["weight_decay"], r["lr"])
        if family not in largest or r["steps"] > largest[family]["steps"]:
            largest[family] = r
    known: dict[tuple, Counter] = defaultdict(Counter)
    for r in done:
        if r["synth_exact_test"]:
            known[(r["task"], r["p"])][r["synth_program_bits"]] += 1
    points = []
    for r in largest.values():
        own = r["synth_program_bits"] if r["synth_exact_test"] else None
        found_often = known[(r["task"], r["p"])].most_common(1)
        bits = own if own is not None else (found_often[0][0] if found_often else None)
        synth_found, network_found = bool(r["synth_exact_test"]), bool(r["grokked"])
        points.append(CostPoint(
            task=r["task"], p=r["p"], frac=r["frac"], seed=r["seed"], model=r["model"],
            steps=r["steps"], program_bits=bits,
            bits_searched=r.get("synth_bits_searched") if bits is None else None,
            synth_found=synth_found,
            synth_programs=r.get("synth_programs_to_best") if synth_found else r.get("synth_programs"),
            synth_seconds=r.get("synth_seconds_to_best") if synth_found else r.get("synth_search_seconds"),
            network_found=network_found,
            network_flops=r.get("flops_to_grok") if network_found else (
                r["flops_per_step"] * r["steps_trained"]
                if r.get("flops_per_step") is not None and r.get("steps_trained") else None),
            network_seconds=r.get("grok_seconds") if network_found else r.get("train_seconds"),
            network_steps=r.get("grok_step") if network_found else r.get("steps_trained"),
        ))  # fmt: skip
    points.sort(key=lambda c: (_task_order(c.task), c.p or 0, c.frac, c.seed))
    return points


def cost_rows(points: list[CostPoint]) -> list[CostRow]:
    """Per operation: how often each learner found it, and the median cost where it did."""
    by_op: dict[tuple, list[CostPoint]] = defaultdict(list)
    for c in points:
        by_op[(c.task, c.p)].append(c)
    out = []
    for (task, p), cells in by_op.items():
        synth = [c for c in cells if c.synth_found]
        net = [c for c in cells if c.network_found]
        s_sec = _median([c.synth_seconds for c in synth])
        n_sec = _median([c.network_seconds for c in net])
        faster = None
        if s_sec is not None and n_sec is not None:
            faster = "synth" if s_sec < n_sec else "network"
        out.append(CostRow(
            task=task, p=p, program_bits=_median([c.program_bits for c in cells]),
            cells=len(cells), synth_found=len(synth),
            synth_programs=_median([c.synth_programs for c in synth]), synth_seconds=s_sec,
            network_found=len(net), network_flops=_median([c.network_flops for c in net]),
            network_seconds=n_sec, network_steps=_median([c.network_steps for c in net]),
            faster=faster,
        ))  # fmt: skip
    out.sort(key=lambda r: (r.program_bits is None, r.program_bits or 0.0, _task_order(r.task)))
    return out
