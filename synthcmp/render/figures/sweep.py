"""The sweep report's figures, drawn with matplotlib from plain numbers.

Like :mod:`synthcmp.render.figures.run` (whose helpers these share), each function takes numbers — no
database, no run folder — and writes one PNG:

* :func:`plot_power` — Power et al.'s Fig. 1 for both learners: for each operation (ordered
  by the length of its program), the smallest training fraction at which the network
  generalizes and the one at which the synthesizer's best program does, as two bars; an
  operation a learner never generalizes on within the sweep gets a hatched bar to the end;
* :func:`plot_phases` — phase diagrams, one panel per operation: training fraction across,
  weight decay up, each point coloured by its median grok step (log scale) or marked
  memorized / did not fit;
* :func:`plot_cost` — what each learner paid against the length L(P) of the program, log-log:
  seconds for both, the synthesizer's candidates built, the network's FLOPs; a filled point
  found the program, a hollow triangle did not (drawn at what it spent);
* :func:`plot_never` — the evidence for an operation the network never learned: its training
  curves at the largest fraction (losses on a log axis, test accuracy on the right), one
  panel per operation, one line per seed;
* :func:`plot_llc` — λ̂ at the final checkpoint over the training fraction, one line per
  operation (the median over seeds, each seed a dot; a ring where most seeds grokked).
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter

from synthcmp.render.figures.run import _save, _suptitle, _wrap, plt  # Agg is chosen there

NETWORK, SYNTH = "#1f77b4", "#2ca02c"
MEMORIZED_GREY, NOT_FIT_GREY, MIXED_COLOUR = "#d9d9d9", "#8c8c8c", "#f2d7ee"


def plot_power(
    labels: list[str],
    network: list[float | None],
    synth: list[float | None],
    fracs: list[float],
    path: Path,
    title: str,
    learners: tuple[str, ...] = ("network", "synth"),
    rising: list[bool] | None = None,
) -> Path:
    """Two horizontal bars per operation (top: the shortest program): the smallest training
    fraction at which the network (blue) and the synthesizer (green) generalize in most
    seeds. ``None``: not at any fraction of the sweep (a hatched bar to the largest one,
    marked "still improving" where ``rising`` says a network was when its budget ran out)."""
    n = len(labels)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.55 * max(n, 1)), layout="constrained")
    shown = [(name, values, colour, off) for name, values, colour, off in
             (("network", network, NETWORK, -0.2), ("synth", synth, SYNTH, 0.2))
             if name in learners]  # fmt: skip
    height = 0.38 if len(shown) == 2 else 0.6
    end = max(fracs) if fracs else 1.0
    names = {"network": "network (test ≥ 99% within the budget)",
             "synth": "synthesizer (best program exact on test)"}  # fmt: skip
    for name, values, colour, offset in shown:
        offset = offset if len(shown) == 2 else 0.0
        for i, v in enumerate(values):
            y = i + offset
            if v is None:
                ax.barh(y, end, height=height, color="white", edgecolor=colour, hatch="///",
                        lw=0.8, label=f"{name}: not at any fraction swept")  # fmt: skip
                up = name == "network" and rising is not None and rising[i]
                ax.text(end + 0.01, y, "never, still improving" if up else "never",
                        va="center", fontsize=8, color=colour)  # fmt: skip
            else:
                ax.barh(y, v, height=height, color=colour, label=names[name])
                ax.text(v + 0.01, y, f"{v:g}", va="center", fontsize=8, color=colour)
    ax.set_yticks(range(n), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, min(1.0, end + 0.12) if end < 0.95 else 1.08)
    ticks = [0.0, *fracs]
    ax.set_xticks(ticks, [f"{f:g}" for f in ticks], fontsize=8)
    ax.set_xlabel("smallest training fraction that generalizes (in most seeds)")
    ax.grid(axis="x", alpha=0.3)
    handles, seen = [], {}
    for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
        seen.setdefault(lab, h)
    handles = list(seen.items())
    if handles:
        fig.legend([h for _, h in handles], [lab for lab, _ in handles], loc="outside lower center",
                   ncol=2, fontsize=8, frameon=False)  # fmt: skip
    _suptitle(fig, title)
    return _save(fig, path)


def plot_phases(
    panels: list[dict],
    path: Path,
    title: str,
) -> Path:
    """One heatmap per operation. Each panel is ``{"title", "fracs", "weight_decays",
    "points": [{"frac", "weight_decay", "state", "grok_step"}]}``; grokked points are
    coloured by their median grok step (log scale, shared), memorized light grey, did not
    fit dark grey, failed cells white."""
    cols = min(3, max(len(panels), 1))
    rows = math.ceil(len(panels) / cols) if panels else 1
    most_rows = max((len(p["weight_decays"]) for p in panels), default=1)
    fig, axes = plt.subplots(rows, cols, figsize=(max(8.0, 3.4 * cols),
                                                  rows * (1.4 + 0.45 * most_rows) + 1.0),
                             layout="constrained", squeeze=False)  # fmt: skip
    steps = [pt["grok_step"] for p in panels for pt in p["points"] if pt["grok_step"]]
    lo, hi = (min(steps), max(steps)) if steps else (1.0, 10.0)
    if hi <= lo:
        lo, hi = lo / 1.5, hi * 1.5
    norm = LogNorm(vmin=max(lo, 1.0), vmax=max(hi, 2.0))
    cmap = plt.get_cmap("viridis")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        fracs, decays = panel["fracs"], panel["weight_decays"]
        for pt in panel["points"]:
            i, j = fracs.index(pt["frac"]), decays.index(pt["weight_decay"])
            state = pt["state"]
            if state == "grokked":
                colour = cmap(norm(pt["grok_step"]))
                text = f"{pt['grok_step']:.0f}"
                ink = "white" if norm(pt["grok_step"]) < 0.6 else "black"
            else:
                colour, text, ink = {
                    "memorized": (MEMORIZED_GREY, "mem", "black"),
                    "did not fit": (NOT_FIT_GREY, "no fit", "white"),
                    "mixed": (MIXED_COLOUR, "mixed", "black"),
                }.get(state, ("white", "error", "red"))
            ax.add_patch(plt.Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor=colour,
                                       edgecolor="white", lw=1.5))  # fmt: skip
            ax.text(i, j, text, ha="center", va="center", fontsize=7, color=ink)
        ax.set_xlim(-0.5, len(fracs) - 0.5)
        ax.set_ylim(-0.5, len(decays) - 0.5)
        ax.set_xticks(range(len(fracs)), [f"{f:g}" for f in fracs], fontsize=8)
        ax.set_yticks(range(len(decays)), [f"{w:g}" for w in decays], fontsize=8)
        ax.set_xlabel("training fraction", fontsize=8)
        ax.set_ylabel("weight decay", fontsize=8)
        ax.set_title(_wrap(panel["title"], 3.2, 9), fontsize=9)
        ax.set_aspect("auto")
        for side in ax.spines.values():
            side.set_visible(False)
    if steps:
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        bar = fig.colorbar(mappable, ax=axes, shrink=0.8, pad=0.02)
        bar.set_label("median grok step (log scale)", fontsize=8)
        bar.ax.tick_params(labelsize=8, which="both")
        plain = FuncFormatter(lambda v, _: f"{v:,.0f}")
        bar.ax.yaxis.set_major_formatter(plain)
        bar.ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:,.0f}" if f"{v:.0e}"[0] in "25" else ""))  # fmt: skip
    legend = [plt.Rectangle((0, 0), 1, 1, facecolor=c)
              for c in (MEMORIZED_GREY, NOT_FIT_GREY, MIXED_COLOUR)]  # fmt: skip
    fig.legend(legend, ["mem: memorized, did not grok within the budget",
                        "no fit: did not even fit the training pairs",
                        "mixed: no outcome in most seeds"],
               loc="outside lower center", ncol=3, fontsize=8, frameon=False)  # fmt: skip
    _suptitle(fig, title)
    return _save(fig, path)


def _finish(fig, title: str, path: Path, ncol: int) -> Path:
    """One legend below the panels (each label once, from every axis), the title, the PNG."""
    handles: dict = {}
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=ncol,
               fontsize=8, frameon=False)  # fmt: skip
    _suptitle(fig, title)
    return _save(fig, path)


def _plain_bits_ticks(ax) -> None:
    """Bits on a log axis read as plain numbers (8, 16, 32), not as 2 × 10¹."""
    from matplotlib.ticker import NullFormatter

    lo, hi = ax.get_xlim()
    ticks = [t for t in (4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128) if lo <= t <= hi]
    if len(ticks) >= 2:
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())


def plot_cost(points: list[dict], path: Path, title: str) -> Path:
    """Three log-log panels over L(P): seconds (both learners), candidates built (the
    synthesizer), FLOPs (the network). A cell that found its program is a dot at what that
    cost; one that did not, a hollow triangle at what it spent (so the true cost lies above
    it); an operation with no known program sits at the bits the search reached."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8), layout="constrained")
    panels = (
        (axes[0], (("synth", "synth_seconds", SYNTH), ("network", "network_seconds", NETWORK)),
         "seconds to find it"),
        (axes[1], (("synth", "synth_programs", SYNTH),), "synthesizer: candidates built"),
        (axes[2], (("network", "network_flops", NETWORK),), "network: FLOPs of training"),
    )  # fmt: skip
    names = {"synth": "synthesizer", "network": "network"}
    for ax, series, ylabel in panels:
        for learner, key, colour in series:
            for found in (True, False):
                xs, ys = [], []
                for i, p in enumerate(points):
                    if p[f"{learner}_found"] is not found or p.get(key) is None:
                        continue
                    x = p["program_bits"] if p["program_bits"] is not None else p["bits_searched"]
                    if x is None or p[key] <= 0:
                        continue
                    xs.append(x * (1 + 0.012 * ((i % 7) - 3)))  # a little spread per cell
                    ys.append(p[key])
                if not xs:
                    continue
                label = (f"{names[learner]}: found" if found
                         else f"{names[learner]}: not found (what it spent)")
                if found:
                    ax.scatter(xs, ys, s=16, color=colour, alpha=0.75, label=label)
                else:
                    ax.scatter(xs, ys, s=30, marker="^", facecolors="none", edgecolors=colour,
                               lw=1.0, label=label)  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="L(P): bits of the operation's program",
               ylabel=ylabel)  # fmt: skip
        _plain_bits_ticks(ax)
        ax.grid(alpha=0.3, which="both")
    return _finish(fig, title, path, ncol=4)


def plot_never(panels: list[dict], path: Path, title: str) -> Path:
    """One panel per operation: per seed, the train loss (solid) and test loss (dashed) on a
    log axis, and the test accuracy (dotted, right axis) over the steps (log axis), each the
    median over log-spaced bins of steps, so the figure shows whether the test curves were
    still moving when the budget ran out."""
    n = len(panels)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.8),
                             layout="constrained", squeeze=False)  # fmt: skip
    colours = plt.get_cmap("tab10")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        acc = ax.twinx()
        for i, curve in enumerate(panel["curves"]):
            colour = colours(i % 10)
            points = [(s, tr, te, a) for s, tr, te, a in zip(
                curve["step"], curve["train_loss"], curve["test_loss"], curve["test_acc"],
                strict=True) if s > 0]  # fmt: skip
            if not points:
                continue
            steps, train, test, accs = zip(*_binned(points), strict=True)
            ax.plot(steps, train, "-", color=colour, lw=1.1, label=f"{curve['label']}: train loss")
            ax.plot(steps, test, "--", color=colour, lw=1.1, label=f"{curve['label']}: test loss")
            acc.plot(steps, accs, ":", color=colour, lw=1.4,
                     label=f"{curve['label']}: test accuracy")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="step", ylabel="loss")
        acc.set(ylim=(0, 1.02), ylabel="test accuracy")
        ax.set_title(_wrap(panel["title"], 4.4, 9), fontsize=9)
        ax.grid(alpha=0.3, which="both")
    return _finish(fig, title, path, ncol=3)


def _binned(points: list[tuple], bins: int = 80) -> list[tuple]:
    """The per-bin medians of ``(step, *values)`` over log-spaced bins of steps: long runs
    at a large learning rate oscillate from one logged step to the next, and the median
    shows the trend the raw lines hide."""
    import numpy as np

    data = np.asarray(points, dtype=float)
    edges = np.geomspace(data[0, 0], data[-1, 0] * 1.000001, bins + 1)
    which = np.digitize(data[:, 0], edges)
    return [tuple(np.median(data[which == b], axis=0)) for b in np.unique(which)]


def never_panels(report, root: Path) -> list[dict]:
    """The curves of :attr:`SweepReport.never`'s cells, read from their run folders (a
    folder that is gone or damaged is left out: the figure draws what is there)."""
    from neural import store
    from synthcmp.render.sweep import never_evidence

    panels = []
    for n in report.never:
        curves = []
        for run, seed in zip(n.runs, n.seeds, strict=True):
            try:
                metrics = store.read_metrics(Path(root) / run)
            except (store.RunError, OSError):
                continue
            rows = [m for m in metrics if all(m.get(k) is not None for k in
                    ("train_loss", "test_loss", "test_acc"))]  # fmt: skip
            if rows:
                curves.append({"label": f"seed {seed}", **{k: [m[k] for m in rows] for k in
                               ("step", "train_loss", "test_loss", "test_acc")}})  # fmt: skip
        if curves:
            evidence = never_evidence(n.final_test_acc, n.grokked, len(n.runs))
            p = f", p = {n.p}" if n.p is not None else ""
            panels.append({"title": f"{n.task}{p}: {n.frac:g} of the pairs"
                                    + (f", {evidence}" if evidence else ""),
                           "curves": curves})  # fmt: skip
    return panels


def plot_llc(series: list[dict], path: Path, title: str) -> Path:
    """λ̂ over the training fraction: per series a line through the seeds' medians, each
    trusted estimate a dot, a ring around a median where most seeds grokked; log λ̂."""
    fig, ax = plt.subplots(figsize=(9, 4.6), layout="constrained")
    colours = plt.get_cmap("tab10")
    untrusted = 0
    for i, s in enumerate(series):
        colour = colours(i % 10)
        xs, medians, rings = [], [], []
        for frac, values, grokked, doubtful in zip(s["fracs"], s["llc"], s["grokked"],
                                                   s["untrusted"], strict=True):  # fmt: skip
            ax.scatter([frac] * len(values), values, s=10, color=colour, alpha=0.5)
            if values:
                xs.append(frac)
                medians.append(sorted(values)[len(values) // 2] if len(values) % 2 else
                               sum(sorted(values)[len(values) // 2 - 1:len(values) // 2 + 1]) / 2)  # fmt: skip
                rings.append(2 * grokked > len(values) + doubtful)  # most of the cells there
        untrusted += sum(s["untrusted"])
        ax.plot(xs, medians, "-o", color=colour, ms=4, label=s["label"])
        ax.scatter([x for x, r in zip(xs, rings, strict=True) if r],
                   [m for m, r in zip(medians, rings, strict=True) if r], s=90,
                   facecolors="none", edgecolors=colour, lw=1.2)  # fmt: skip
    ax.scatter([], [], s=90, facecolors="none", edgecolors="#444444",
               label="most seeds grokked there")  # fmt: skip
    if any(v > 0 for s in series for vals in s["llc"] for v in vals):
        ax.set_yscale("log")
    fracs = sorted({f for s in series for f in s["fracs"]})
    ax.set_xticks(fracs, [f"{f:g}" for f in fracs])
    ax.set(xlabel="training fraction", ylabel="λ̂ at the final checkpoint")
    ax.grid(alpha=0.3, which="both")
    note = (f" ({untrusted} untrusted estimate{'s' if untrusted > 1 else ''} not drawn)"
            if untrusted else "")  # fmt: skip
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    _suptitle(fig, title + note)
    return _save(fig, path)


def draw_figures(report, folder: Path) -> dict[str, str]:
    """Draw the report's figures into ``folder``: ``power.png`` (``power-2.png``, … for
    further settings) and ``phases.png``; returns {figure: path}."""
    drawn = {}
    for i, fig in enumerate(report.power, 1):
        if not fig.rows:
            continue
        with_p = len({r.p for r in fig.rows}) > 1
        labels = []
        for r in fig.rows:
            p = f", p = {r.p}" if with_p and r.p is not None else ""
            program = (f"program {r.program}, {r.program_bits:.1f} bits" if r.program
                       else "no exact program found")  # fmt: skip
            labels.append(f"{r.task}: {r.formula.replace(' (mod p)', '')}{p}\n{program}")
        learners = tuple(name for name, ran in (("network", fig.network), ("synth", fig.synth))
                         if ran)  # fmt: skip
        name = "power" if i == 1 else f"power-{i}"
        ps = sorted({r.p for r in fig.rows if r.p is not None})
        modulus = f"p = {ps[0]}, " if len(ps) == 1 else ""
        setting = (f"{fig.model}, weight decay {fig.weight_decay:g}, lr {fig.lr:g}, "
                   f"{fig.steps:,} steps" if fig.network else "synthesizer only")  # fmt: skip
        title = (f"Smallest training fraction at which each learner generalizes ({modulus}"
                 f"{setting}; operations by program length)")  # fmt: skip
        drawn[name] = str(plot_power(
            labels, [r.network_frac for r in fig.rows], [r.synth_frac for r in fig.rows],
            fig.fracs, folder / f"{name}.png", title, learners,
            [bool(r.rising_at) for r in fig.rows],
        ))  # fmt: skip
    if report.phases:
        with_p = len({d.p for d in report.phases}) > 1
        panels = []
        for d in report.phases:
            info = f"{d.task}" + (f" p={d.p}" if with_p and d.p is not None else "")
            panels.append({
                "title": info, "fracs": d.fracs, "weight_decays": d.weight_decays,
                "points": [pt.to_json() for pt in d.points],
            })  # fmt: skip
        settings = {(d.model, d.lr, d.steps) for d in report.phases}
        setting = ""
        if len(settings) == 1:
            model, lr, steps = next(iter(settings))
            setting = f" ({model}, lr {lr:g}, {steps:,} steps)"
        drawn["phases"] = str(plot_phases(
            panels, folder / "phases.png",
            f"Phase diagrams: median grok step over training fraction × weight decay{setting}",
        ))  # fmt: skip
    if report.cost:
        budgets = sorted({c.steps for c in report.cost})
        drawn["cost"] = str(plot_cost(
            [c.to_json() for c in report.cost], folder / "cost.png",
            "What each learner paid to find each program, against its length (one point per "
            f"operation, fraction and seed; network budget {', '.join(f'{b:,}' for b in budgets)}"
            " steps)",
        ))  # fmt: skip
    panels = never_panels(report, Path(report.dir)) if report.never else []
    if panels:
        settings = {(n.model, n.weight_decay, n.lr, n.steps) for n in report.never}
        setting = ""
        if len(settings) == 1:
            model, wd, lr, steps = next(iter(settings))
            setting = f" ({model}, weight decay {wd:g}, lr {lr:g}, {steps:,} steps)"
        drawn["never"] = str(plot_never(
            panels, folder / "never.png",
            "Operations the network learned (in most seeds) at no fraction: training curves at the "
            f"largest fraction{setting}",
        ))  # fmt: skip
    if report.llc:
        vary = [k for k in ("p", "model", "weight_decay", "lr", "steps")
                if len({getattr(s, k) for s in report.llc}) > 1]  # fmt: skip
        short = {"p": "p=", "model": "", "weight_decay": "wd ", "lr": "lr ", "steps": "steps "}
        series = [{**s.to_json(), "label": s.task + "".join(
            f", {short[k]}{getattr(s, k):g}" if not isinstance(getattr(s, k), str)
            else f", {getattr(s, k)}" for k in vary if getattr(s, k) is not None)}
            for s in report.llc]  # fmt: skip
        drawn["llc"] = str(plot_llc(
            series, folder / "llc.png",
            "λ̂ at the final checkpoint over the training fraction (median of the seeds)",
        ))  # fmt: skip
    return drawn
