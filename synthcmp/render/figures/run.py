"""The report's figures, drawn with matplotlib from plain arrays.

Each ``plot_*`` function takes numbers (no models, no run folders) and writes one PNG, so a
figure can be redrawn from ``report.json`` alone and each one is easy to test. The pipeline
gathers the numbers; this module only draws them.

The figures, in the order the report shows them:

* training curves — train/test accuracy and loss over steps on a log-x axis, with the
  memorization, circuit-formation and cleanup boundaries as vertical lines;
* the embedding's Fourier spectrum — the share of the token embedding's squared norm at each
  frequency k (cos and sin together), key frequencies highlighted;
* the logit model's fit — the network's logits against Σ α χ(u·c⁻¹), as a density;
* the embedding on circles — for each key frequency k, every residue x drawn at its
  coordinates on the two directions of W_E that carry cos(ω_k x) and sin(ω_k x), ω_k = 2πk/n;
  a network that grokked places the residues on a circle in order x·k mod n;
* progress measures — restricted/excluded loss and key-frequency energy share per checkpoint;
* description length — the bits of the training labels under each checkpoint's own circuit
  or the table, whichever is shorter, on log-log axes, with the shortest program's and the
  table's bits as horizontal lines: it should fall from one line to the other at grokking;
* with ``--llc``, λ̂ on a second axis of the description-length figure, and each SGLD
  chain's trace (:func:`plot_llc_traces`), to see that the chains settled;
* predictions vs program — the network's argmax over the whole (x, y) grid beside the matched
  program's table, and the cells where they differ.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from taskcore.files import atomic_write  # noqa: E402

PHASE_COLORS = {"memorization": "#d62728", "circuit_formation": "#ff7f0e", "cleanup": "#2ca02c"}
TRAIN, TEST = "#1f77b4", "#d62728"
DPI = 110
MIN_WIDTH = 8.0  # inches: no figure is narrower than its title needs


def _figure(cols: int, width: float, height: float, layout: str = "constrained"):
    """A figure of ``cols`` panels side by side, laid out by matplotlib's constrained layout
    (titles, labels and outside legends get the room they need; "compressed" for square
    panels, which it packs without gaps)."""
    size = (max(width, MIN_WIDTH), height)
    return plt.subplots(1, cols, figsize=size, layout=layout)


def _wrap(text: str, width_in: float, fontsize: float) -> str:
    """``text`` wrapped to lines that fit ``width_in`` inches at ``fontsize`` points."""
    chars = max(20, int(width_in * 72 / (0.6 * fontsize)))
    return "\n".join(textwrap.wrap(text, chars)) or text


def _suptitle(fig, title: str) -> None:
    fig.suptitle(_wrap(title, fig.get_figwidth(), 12), fontsize=12)


def _save(fig, path: Path) -> Path:
    """The PNG drawn in memory, then written atomically: a link planted at ``path`` is
    replaced by the figure, never written through."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.12)
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buffer.getbuffer()))
    return path


def _phase_lines(ax, phases: dict[str, int | None]) -> None:
    for name, step in phases.items():
        if step:
            ax.axvline(step + 1, color=PHASE_COLORS.get(name, "gray"), ls="--", lw=1,
                       label="end of " + name.replace("_", " "))  # fmt: skip


def _finish(fig, axes, phases: dict[str, int | None], title: str, path: Path) -> Path:
    """Panels over steps: the phase boundaries and a grid on each, one legend, the title."""
    for ax in axes:
        _phase_lines(ax, phases)
        ax.grid(alpha=0.3)
    _legend_below(fig, axes)
    _suptitle(fig, title)
    return _save(fig, path)


def _legend_below(fig, axes) -> None:
    """One legend for the whole figure, under the panels, each label once."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(seen.values(), seen.keys(), loc="outside lower center",
                   ncol=len(seen) if len(seen) <= 5 else 4, fontsize=9, frameon=False)  # fmt: skip


def plot_training(
    metrics: list[dict], phases: dict[str, int | None], path: Path, title: str
) -> Path:
    """Accuracy (left) and loss (right) against steps, log-x, with the phase boundaries."""
    steps = np.array([m["step"] for m in metrics], dtype=float) + 1  # log axis: step 0 → 1
    fig, (acc, loss) = _figure(2, 11, 4.4)
    acc.plot(steps, [m["train_acc"] for m in metrics], color=TRAIN, label="train")
    acc.plot(steps, [m["test_acc"] for m in metrics], color=TEST, label="test")
    acc.set(xscale="log", ylim=(-0.02, 1.02), xlabel="step", ylabel="accuracy",
            title="accuracy")  # fmt: skip
    loss.plot(steps, [m["train_loss"] for m in metrics], color=TRAIN, label="train")
    loss.plot(steps, [m["test_loss"] for m in metrics], color=TEST, label="test")
    loss.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy (nats)",
             title="loss")  # fmt: skip
    return _finish(fig, (acc, loss), phases, title, path)


def plot_spectrum(shares: list[float], key_frequencies: list[int], path: Path, title: str,
                  names: list[str] | None = None) -> Path:  # fmt: skip
    """Bar chart of the embedding's squared-norm share at each frequency k = 1…⌊n/2⌋, or at
    each non-trivial irrep when ``names`` (one per irrep, index 0 the trivial one) are given."""
    k = np.arange(1, len(shares) + 1)
    colors = ["#d62728" if f in key_frequencies else "#9aa5b1" for f in k]
    fig, ax = _figure(1, 10, 3.8 if names is None else 4.6)
    ax.bar(k, shares, color=colors, width=0.9 if names is None else 0.6)
    if names is None:
        for f in key_frequencies:
            if 1 <= f <= len(shares):
                ax.annotate(str(f), (f, shares[f - 1]), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)  # fmt: skip
    else:
        ax.set_xticks(k, [names[i] for i in k], rotation=30, ha="right", fontsize=9)
    top = max(shares, default=0.0)
    ax.set(
        xlabel="frequency k" if names is None else "irreducible representation",
        ylabel="share of ‖W_E‖²",
        xlim=(0, len(shares) + 1),
        ylim=(0, top * 1.15 if top > 0 else 1.0),
    )  # room for the labels over the bars
    ax.set_title(_wrap(title, fig.get_figwidth(), 11), fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_logit_fit(model: np.ndarray, actual: np.ndarray, fve: float, path: Path,
                   title: str) -> Path:  # fmt: skip
    """The network's centered logits against the logit model's, one point per (x, y, c) of a
    sample, as a density: a good model puts them on the diagonal."""
    fig, ax = _figure(1, 8, 5.2)
    lo = float(min(model.min(initial=0), actual.min(initial=0)))
    hi = float(max(model.max(initial=0), actual.max(initial=0)))
    hb = ax.hexbin(model, actual, gridsize=60, bins="log", cmap="viridis", mincnt=1)
    ax.plot([lo, hi], [lo, hi], color="#d62728", lw=1, ls="--", label="model = network")
    ax.set(xlabel="logit model Σ α χ(u·c⁻¹)", ylabel="network's logit, class mean removed")
    ax.set_title(_wrap(f"{title} — the model explains {fve:.1%} of the variance",
                       fig.get_figwidth(), 11), fontsize=11)  # fmt: skip
    fig.colorbar(hb, ax=ax, label="points (log scale)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return _save(fig, path)


def _label_ring(ax, xy: np.ndarray, labels: np.ndarray, count: int = 12) -> None:
    """Label ``count`` residues evenly spread by angle around the points' centre, each
    pushed outward along its radius, so labels neither overlap each other nor their points."""
    d = xy - xy.mean(axis=0)
    radius = np.hypot(d[:, 0], d[:, 1])
    order = np.argsort(np.arctan2(d[:, 1], d[:, 0]))
    count = min(count, len(order))
    for i in order[np.linspace(0, len(order), count, endpoint=False).astype(int)]:
        ux, uy = d[i] / radius[i] if radius[i] > 0 else (0.0, 1.0)
        ha = "left" if ux > 0.35 else "right" if ux < -0.35 else "center"
        va = "bottom" if uy > 0.35 else "top" if uy < -0.35 else "center"
        ax.annotate(str(labels[i]), xy[i], xytext=(7 * ux, 7 * uy), textcoords="offset points",
                    ha=ha, va=va, fontsize=7, color="#333")  # fmt: skip


def plot_circles(coords: dict[int, np.ndarray], positions: np.ndarray, labels: np.ndarray,
                 m: int, path: Path, title: str) -> Path:  # fmt: skip
    """Each symbol at its (cos, sin) coordinates for each key frequency, coloured by angle.

    ``coords[k]`` is a (rows, 2) array: row i is a symbol's embedding projected on the
    directions that carry cos(ω_k t) and sin(ω_k t), where ``positions[i]`` = t is the
    position of the embedding node's value e(x) on Z_m (x itself, its discrete log, x², …)
    and ``labels[i]`` that value. Symbols with the same value (x and −x under x²) share a
    point. Without key frequencies there is no circle to draw and the figure says so.
    """
    freqs = sorted(coords)
    if not freqs:
        fig, ax = _figure(1, MIN_WIDTH, 2.6)
        ax.axis("off")
        ax.text(0.5, 0.5, "no key frequencies: the embedding is on no circle\n"
                "(no frequency carries enough of the logits to be part of a Fourier circuit)",
                ha="center", va="center", fontsize=10, color="#555")  # fmt: skip
        _suptitle(fig, title)
        return _save(fig, path)
    cols = min(len(freqs), 4)
    rows = -(-len(freqs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(3.3 * cols, MIN_WIDTH), 3.4 * rows),
                             squeeze=False, layout="compressed")  # fmt: skip
    for ax in axes.ravel():
        ax.axis("off")
    for ax, k in zip(axes.ravel(), freqs, strict=False):
        xy = coords[k]
        ax.axis("on")
        # hue = the angle ω_k·i the Fourier algorithm gives position i: a smooth rainbow ring
        # means the network placed every residue where the algorithm says it belongs.
        ax.scatter(xy[:, 0], xy[:, 1], c=np.asarray(positions) * k % m, cmap="hsv", s=14,
                   vmin=0, vmax=m)  # fmt: skip
        _label_ring(ax, xy, labels)
        ax.set_aspect("equal")
        ax.margins(0.18)  # room for the labels outside the ring
        ax.set_title(f"k = {k}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    _suptitle(fig, title)
    return _save(fig, path)


def plot_progress(
    progress: list[dict], phases: dict[str, int | None], path: Path, title: str
) -> Path:
    """Restricted/excluded/test loss and key-frequency share per checkpoint, log-x."""
    steps = np.array([m["step"] for m in progress], dtype=float) + 1
    fig, (losses, share) = _figure(2, 11, 4.6)
    for key, color in (("train_loss", TRAIN), ("test_loss", TEST),
                       ("restricted_loss", "#2ca02c"), ("excluded_loss", "#9467bd")):  # fmt: skip
        values = [m.get(key) for m in progress]
        if any(v is not None for v in values):
            losses.plot(steps, [np.nan if v is None else v for v in values], color=color,
                        label=key.replace("_", " "))  # fmt: skip
    losses.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy (nats)",
               title="losses")  # fmt: skip
    for key, color, label in (("key_share", "#8c564b", "key frequencies' share of ‖W_E‖²"),
                              ("weight_norm", "#7f7f7f", "weight norm ÷ its maximum")):  # fmt: skip
        values = np.array([np.nan if m.get(key) is None else m[key] for m in progress], dtype=float)
        if key == "weight_norm" and np.isfinite(values).any():
            values = values / np.nanmax(values)
        share.plot(steps, values, color=color, label=label)
    share.set(xscale="log", ylim=(0, 1.05), xlabel="step", title="circuit formation")
    return _finish(fig, (losses, share), phases, title, path)


LLC_COLOR = "#7b3fa0"


def plot_description_length(
    curve: list[dict], program_bits: float | None, table_bits: float | None,
    phases: dict[str, int | None], path: Path, title: str, llc: list[dict] | None = None,
) -> Path:  # fmt: skip
    """The network's description length per checkpoint (log bits over log steps), marked by
    which code was shorter there, with the program's and the table's bits as lines; with
    ``llc``, λ̂ per checkpoint on a second axis (hollow where not trusted)."""
    fig, ax = _figure(1, 10, 4.2)
    if curve:
        steps = np.array([p["step"] for p in curve], dtype=float) + 1
        bits = np.array([p["bits"] for p in curve], dtype=float)
        by_circuit = np.array([p["rung"] == "circuit" for p in curve])
        ax.plot(steps, bits, color="#444444", lw=1.2, zorder=1)
        for chosen, colour, label in ((~by_circuit, TEST, "bits: coded as the table"),
                                      (by_circuit, "#2ca02c",
                                       "bits: coded by the checkpoint's circuit + exceptions")):  # fmt: skip
            if chosen.any():
                ax.scatter(steps[chosen], bits[chosen], s=14, color=colour, zorder=2, label=label)
    else:
        ax.text(0.5, 0.6, "no circuit in the final network: the checkpoints' bits were not "
                "measured", transform=ax.transAxes, ha="center", fontsize=9, color="#666666")  # fmt: skip
    for value, label, style in ((table_bits, "memorized table", ":"),
                                (program_bits, "shortest program", "--")):  # fmt: skip
        if value is not None:
            ax.axhline(value, color="#1f77b4", ls=style, lw=1, label=f"{label}: {value:,.0f} bits")
    _phase_lines(ax, phases)
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="bits of the training labels")
    low, high = ax.get_ylim()
    if high < 10 * low:  # the bits barely move (the table throughout): a decade around them
        middle = (low * high) ** 0.5
        ax.set_ylim(middle / 10**0.5, middle * 10**0.5)
    ax.grid(alpha=0.3, which="both")
    axes = [ax]
    if llc:
        axes.append(_llc_axis(ax, llc))
    _legend_below(fig, axes)
    _suptitle(fig, title)
    return _save(fig, path)


def _llc_axis(ax, llc: list[dict]):
    """λ̂ on a twin y-axis of ``ax``: a line through the trusted estimates, each estimate a
    diamond (hollow: not trusted); estimates that are no number or ≤ 0 cannot sit on a log
    axis and are counted in the label instead."""
    twin = ax.twinx()
    step = np.array([p["step"] for p in llc], dtype=float) + 1
    value = np.array([np.nan if p.get("llc") is None else p["llc"] for p in llc], dtype=float)
    trusted = np.array([bool(p.get("trusted", not p.get("warnings"))) for p in llc])
    shown = np.isfinite(value) & (value > 0)
    ok, doubtful = shown & trusted, shown & ~trusted
    twin.plot(step[ok], value[ok], color=LLC_COLOR, lw=1.2, zorder=3)
    label = "λ̂ (local learning coefficient, right axis)"
    if (~shown).any():
        label += f"; {int((~shown).sum())} not drawn (diverged or < 0)"
    twin.scatter(step[ok], value[ok], marker="D", s=22, color=LLC_COLOR, zorder=4, label=label)
    if doubtful.any():
        twin.scatter(step[doubtful], value[doubtful], marker="D", s=22, facecolors="none",
                     edgecolors=LLC_COLOR, zorder=4, label="λ̂ not trusted (a warning)")  # fmt: skip
    if shown.any():
        twin.set_yscale("log")
    twin.set_ylabel("λ̂", color=LLC_COLOR)
    twin.tick_params(axis="y", colors=LLC_COLOR)
    return twin


def plot_llc_traces(llc: list[dict], burnin: int, path: Path, title: str) -> Path:
    """Each chain's trace at each estimated checkpoint: nβ (L(w_t) − L(w*)) over the SGLD
    steps t, coloured by the checkpoint's step, the burn-in shaded. λ̂ is the mean of a trace
    after the burn-in; a trace still climbing at the end has not settled."""
    fig, ax = _figure(1, 10, 4.6)
    cmap = plt.get_cmap("viridis")
    steps = [p["step"] for p in llc]
    norm = matplotlib.colors.LogNorm(vmin=min(steps) + 1, vmax=max(steps) + 2)
    for p in llc:
        color = cmap(norm(p["step"] + 1))
        for trace in p.get("traces") or []:
            t = np.array([np.nan if v is None else v for v in trace], dtype=float)
            ax.plot(np.arange(1, len(t) + 1), p["nbeta"] * (t - p["loss_start"]), color=color,
                    lw=0.8, alpha=0.8)  # fmt: skip
    ax.axvspan(0, burnin + 0.5, color="#dddddd", alpha=0.6, label=f"burn-in ({burnin} steps)")
    ax.axhline(0, color="#888888", lw=0.8)
    ax.set(xlabel="SGLD step", ylabel="nβ (L(w) − L(w*))")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.grid(alpha=0.3)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                 label="checkpoint (training step + 1)")  # fmt: skip
    _legend_below(fig, (ax,))
    _suptitle(fig, title)
    return _save(fig, path)


def plot_predictions(predicted: np.ndarray, program: np.ndarray, domain: np.ndarray,
                     path: Path, title: str, program_text: str) -> Path:  # fmt: skip
    """Network argmax, the program's table, and where they differ, over the (x, y) grid."""
    mask = ~domain
    differ = (predicted != program) & domain
    fig, axes = _figure(3, 12, 5.2, layout="compressed")
    cmap = plt.get_cmap("twilight").with_extremes(bad="#d9d9d9")  # outside the domain: grey
    for ax, grid, name in ((axes[0], predicted, "network argmax"),
                           (axes[1], program, f"program: {program_text}")):  # fmt: skip
        ax.imshow(np.ma.masked_array(grid, mask), cmap=cmap, interpolation="nearest")
        ax.set_title(_wrap(name, 3.6, 10), fontsize=10)
        ax.set(xlabel="y", ylabel="x")
    reds = plt.get_cmap("Reds").with_extremes(bad="#d9d9d9")
    axes[2].imshow(np.ma.masked_array(differ, mask), cmap=reds, vmin=0, vmax=1,
                   interpolation="nearest")  # fmt: skip
    wrong = int(differ.sum())
    agree = 1 - wrong / max(int(domain.sum()), 1)
    cells = "cell" if wrong == 1 else "cells"
    axes[2].set_title(f"differ: {wrong} {cells} (agreement {agree:.2%})", fontsize=10)
    axes[2].set(xlabel="y")
    _suptitle(fig, title)
    return _save(fig, path)
