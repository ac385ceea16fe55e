"""The report's figures, drawn with matplotlib from plain arrays.

Each ``plot_*`` function takes numbers (no models, no run folders) and writes one PNG, so a
figure can be redrawn from ``report.json`` alone and each one is easy to test. The pipeline
gathers the numbers; this module only draws them.

The figures, in the order the report shows them:

* training curves — train/test accuracy and loss over steps on a log-x axis, with the
  memorization, circuit-formation and cleanup boundaries as vertical lines;
* the embedding's Fourier spectrum — the share of the token embedding's squared norm at each
  frequency k (cos and sin together), key frequencies highlighted;
* the embedding on circles — for each key frequency k, every residue x drawn at its
  coordinates on the two directions of W_E that carry cos(ω_k x) and sin(ω_k x), ω_k = 2πk/n;
  a network that grokked places the residues on a circle in order x·k mod n;
* progress measures — restricted/excluded loss and key-frequency energy share per checkpoint;
* predictions vs program — the network's argmax over the whole (x, y) grid beside the matched
  program's table, and the cells where they differ.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PHASE_COLORS = {"memorization": "#d62728", "circuit_formation": "#ff7f0e", "cleanup": "#2ca02c"}
TRAIN, TEST = "#1f77b4", "#d62728"


def _save(fig, path: Path) -> Path:
    fig.tight_layout(rect=(0, 0, 1, 0.95))  # leave room for the suptitle
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _phase_lines(ax, phases: dict[str, int | None]) -> None:
    for name, step in phases.items():
        if step:
            ax.axvline(step, color=PHASE_COLORS.get(name, "gray"), ls="--", lw=1,
                       label="end of " + name.replace("_", " "))  # fmt: skip


def plot_training(
    metrics: list[dict], phases: dict[str, int | None], path: Path, title: str
) -> Path:
    """Accuracy (left) and loss (right) against steps, log-x, with the phase boundaries."""
    steps = np.array([m["step"] for m in metrics], dtype=float) + 1  # log axis: step 0 → 1
    fig, (acc, loss) = plt.subplots(1, 2, figsize=(11, 4))
    acc.plot(steps, [m["train_acc"] for m in metrics], color=TRAIN, label="train")
    acc.plot(steps, [m["test_acc"] for m in metrics], color=TEST, label="test")
    acc.set(xscale="log", ylim=(-0.02, 1.02), xlabel="step", ylabel="accuracy", title="accuracy")
    loss.plot(steps, [m["train_loss"] for m in metrics], color=TRAIN, label="train")
    loss.plot(steps, [m["test_loss"] for m in metrics], color=TEST, label="test")
    loss.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy", title="loss")
    for ax in (acc, loss):
        _phase_lines(ax, phases)
        ax.grid(alpha=0.3)
    acc.legend(loc="center left", fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_spectrum(shares: list[float], key_frequencies: list[int], path: Path, title: str) -> Path:
    """Bar chart of the embedding's squared-norm share at each frequency k = 1…⌊n/2⌋."""
    k = np.arange(1, len(shares) + 1)
    colors = ["#d62728" if f in key_frequencies else "#9aa5b1" for f in k]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.bar(k, shares, color=colors, width=0.9)
    for f in key_frequencies:
        ax.annotate(str(f), (f, shares[f - 1]), ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="frequency k", ylabel="share of ‖W_E‖²", title=title, xlim=(0, len(shares) + 1))
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_circles(coords: dict[int, np.ndarray], labels: np.ndarray, path: Path, title: str) -> Path:
    """Each residue at its (cos, sin) coordinates for each key frequency, coloured by angle.

    ``coords[k]`` is an (m, 2) array: row i is the embedding of the residue ``labels[i]``
    projected on the directions that carry cos(ω_k i) and sin(ω_k i) (i is the residue itself,
    or its discrete log for multiplicative tasks).
    """
    m = len(labels)
    freqs = sorted(coords)
    cols = max(1, min(len(freqs), 4))
    rows = max(1, -(-len(freqs) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, k in zip(axes.ravel(), freqs, strict=False):
        xy = coords[k]
        ax.axis("on")
        # hue = the angle ω_k·i the Fourier algorithm gives position i: a smooth rainbow ring
        # means the network placed every residue where the algorithm says it belongs.
        ax.scatter(xy[:, 0], xy[:, 1], c=np.arange(m) * k % m, cmap="hsv", s=14)
        for i in range(0, m, max(1, m // 8)):
            ax.annotate(str(labels[i]), xy[i], fontsize=7)
        ax.set_aspect("equal")
        ax.set_title(f"k = {k}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if not freqs:
        axes[0, 0].text(0.5, 0.5, "no key frequencies", ha="center", va="center")
    fig.suptitle(title)
    return _save(fig, path)


def plot_progress(
    progress: list[dict], phases: dict[str, int | None], path: Path, title: str
) -> Path:
    """Restricted/excluded/test loss and key-frequency share per checkpoint, log-x."""
    steps = np.array([m["step"] for m in progress], dtype=float) + 1
    fig, (losses, share) = plt.subplots(1, 2, figsize=(11, 4))
    for key, color in (("train_loss", TRAIN), ("test_loss", TEST),
                       ("restricted_loss", "#2ca02c"), ("excluded_loss", "#9467bd")):  # fmt: skip
        values = [m.get(key) for m in progress]
        if any(v is not None for v in values):
            losses.plot(steps, [np.nan if v is None else v for v in values], color=color,
                        label=key.replace("_", " "))  # fmt: skip
    losses.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy", title="losses")
    for key, color, label in (("key_share", "#d62728", "key frequencies' share of ‖W_E‖²"),
                              ("weight_norm", "#7f7f7f", "weight norm (scaled)")):  # fmt: skip
        values = np.array([np.nan if m.get(key) is None else m[key] for m in progress], dtype=float)
        if key == "weight_norm" and np.isfinite(values).any():
            values = values / np.nanmax(values)
        share.plot(steps, values, color=color, label=label)
    share.set(xscale="log", ylim=(0, 1.05), xlabel="step", title="circuit formation")
    for ax in (losses, share):
        _phase_lines(ax, phases)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_predictions(predicted: np.ndarray, program: np.ndarray, domain: np.ndarray,
                     path: Path, title: str, program_text: str) -> Path:  # fmt: skip
    """Network argmax, the program's table, and where they differ, over the (x, y) grid."""
    mask = ~domain
    differ = (predicted != program) & domain
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    for ax, grid, name in ((axes[0], predicted, "network argmax"),
                           (axes[1], program, f"program: {program_text}")):  # fmt: skip
        ax.imshow(np.ma.masked_array(grid, mask), cmap="twilight", interpolation="nearest")
        ax.set(title=name, xlabel="y", ylabel="x")
    axes[2].imshow(np.ma.masked_array(differ, mask), cmap="Reds", vmin=0, vmax=1,
                   interpolation="nearest")  # fmt: skip
    wrong = int(differ.sum())
    agree = 1 - wrong / max(int(domain.sum()), 1)
    cells = "cell" if wrong == 1 else "cells"
    axes[2].set(title=f"differ: {wrong} {cells} (agreement {agree:.2%})", xlabel="y")
    fig.suptitle(title)
    return _save(fig, path)


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(steps: list[int], values: list[float], width: int = 60) -> str:
    """Values in [0, 1] resampled on a log-spaced step grid, as one line of block characters."""
    if not steps:
        return ""
    s = np.asarray(steps, dtype=float) + 1
    grid = np.geomspace(s[0], s[-1], width) if s[-1] > s[0] else np.full(width, s[0])
    idx = np.clip(np.searchsorted(s, grid, side="right") - 1, 0, len(s) - 1)
    v = np.clip(np.asarray(values, dtype=float)[idx], 0, 1)
    return "".join(SPARK[int(round(x * (len(SPARK) - 1)))] for x in v)
