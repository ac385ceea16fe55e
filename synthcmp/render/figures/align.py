"""The figures of ``synthcmp align``, drawn from the align document (``align.json``) alone.

* ``alignment.png`` — heat maps of pairwise alignment, runs × runs with the models in blocks:
  linear CKA (top row) and mutual k-NN (bottom row) for the embeddings, the MLP neurons and
  the logits; each panel's title gives the mean over pairs beside its shuffled-input baseline;
* ``frequencies.png`` — each run's key frequencies as a row of dots (k on the x axis), so a
  shared frequency is a column and seed-specific ones are scattered;
* ``clockpizza.png`` — each run at (distance irrelevance, gradient symmetricity), with the
  regions that classify it as Clock or Pizza and the hand-built Clock and Pizza networks as
  reference points (not drawn for a group task, where neither algorithm applies).

Layout helpers come from :mod:`synthcmp.render.figures.run`, so these figures look like the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthcmp.render.figures.run import MIN_WIDTH, _figure, _legend_below, _save, _suptitle, plt

MODEL_COLORS = {"transformer": "#1f77b4", "mlp": "#d62728", "constant-attention": "#2ca02c"}
PANELS = (("embed.x", "embeddings"), ("mlp.post", "MLP neurons"), ("logits", "logits"))
METRICS = (("cka", "CKA"), ("mutual_knn", "mutual k-NN"))


def _labels(doc: dict, runs: list[int]) -> list[str]:
    by_index = {r["index"]: r for r in doc.get("runs") or []}
    return [f"{by_index[i]['model'][:4]} s{by_index[i]['seed']}" for i in runs]


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def plot_alignment(doc: dict, path: Path) -> Path:
    """CKA and mutual k-NN heat maps for three layers (those the runs have)."""
    layers = [(name, label) for name, label in PANELS
              if any(a["layer"] == name for a in doc.get("alignment") or [])]  # fmt: skip
    cols = max(len(layers), 1)
    fig, axes = plt.subplots(2, cols, figsize=(max(4.2 * cols, MIN_WIDTH), 8.4), squeeze=False,
                             layout="constrained")  # fmt: skip
    image = None
    for row, (metric, metric_label) in enumerate(METRICS):
        for col, (name, label) in enumerate(layers):
            ax = axes[row, col]
            a = next((a for a in doc["alignment"] if a["layer"] == name and a["metric"] == metric),
                     None)  # fmt: skip
            if a is None:
                ax.axis("off")
                continue
            M = np.array([[np.nan if v is None else v for v in r] for r in a["matrix"]], float)
            image = ax.imshow(M, vmin=0, vmax=1, cmap="viridis", interpolation="nearest")
            labels = _labels(doc, a["runs"])
            ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            models = [lab.split()[0] for lab in labels]
            for i in range(1, len(models)):  # a line between the models' blocks
                if models[i] != models[i - 1]:
                    ax.axhline(i - 0.5, color="white", lw=1.5)
                    ax.axvline(i - 0.5, color="white", lw=1.5)
            ax.set_title(f"{metric_label} · {label}\nmean {_fmt(a.get('mean'))} · "
                         f"shuffled {_fmt(a.get('baseline_mean'))}", fontsize=10)  # fmt: skip
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="alignment (1 = identical)")
    _suptitle(fig, f"{doc.get('task')} (n = {doc.get('n')}): how alike are the runs' layers? "
                   "Off-diagonal pairs against the same pairs with inputs shuffled")  # fmt: skip
    return _save(fig, path)


def plot_frequencies(doc: dict, path: Path) -> Path:
    """Each run's key frequencies as dots on its row."""
    runs = doc.get("runs") or []
    universe = int(doc.get("universe") or 1)
    height = max(2.6, 0.28 * len(runs) + 1.6)
    fig, ax = _figure(1, max(MIN_WIDTH, 0.16 * universe + 3), height)
    for row, r in enumerate(runs):
        ks = r.get("key_frequencies") or []
        color = MODEL_COLORS.get(r.get("model"), "#555555")
        ax.scatter(ks, [row] * len(ks), color=color, s=36, label=r.get("model"), zorder=2)
        if not ks:
            ax.text(1, row, "no circuit", va="center", fontsize=7, color="#777777")
    ax.set_yticks(range(len(runs)), [f"{r.get('model')} s{r.get('seed')}" for r in runs],
                  fontsize=8)  # fmt: skip
    names = {k: name for r in runs if r.get("key_names")
             for k, name in zip(r["key_frequencies"], r["key_names"], strict=True)}
    ax.set(xlim=(0.3, universe + 0.7), ylim=(len(runs) - 0.5, -0.5),
           xlabel="irrep" if names else "frequency k")  # fmt: skip
    if names:  # a group's irreps: their names where a run holds them, else their index
        ax.set_xticks(range(1, universe + 1),
                      [names.get(k, str(k)) for k in range(1, universe + 1)], fontsize=8,
                      rotation=30, ha="right")  # fmt: skip
    else:
        ax.set_xticks(range(1, universe + 1, max(1, universe // 20)))
    ax.grid(alpha=0.3, zorder=0)
    a = doc.get("frequencies") or {}
    said = (f"mean Jaccard {_fmt(a.get('mean'))} (random sets of the same sizes "
            f"{_fmt(a.get('baseline_mean'))})" if a else "fewer than two circuits")  # fmt: skip
    _legend_below(fig, (ax,))
    _suptitle(fig, f"Key {'irreps' if names else 'frequencies'} per run: {said}")
    return _save(fig, path)


def plot_clock_pizza(doc: dict, path: Path) -> Path:
    """Runs at (distance irrelevance, gradient symmetricity), with the classification regions."""
    from compare.clockpizza import DI_CLOCK, GS_PIZZA

    fig, ax = _figure(1, MIN_WIDTH, 6.0)
    lo, hi = -0.25, 1.05  # the axes' limits, in data coordinates
    ax.fill_between([DI_CLOCK, hi], lo, GS_PIZZA, color="#1f77b4", alpha=0.08, lw=0)
    ax.fill_between([-0.05, DI_CLOCK], GS_PIZZA, hi, color="#d62728", alpha=0.08, lw=0)
    ax.axvline(DI_CLOCK, color="#999999", lw=1, ls=":")
    ax.axhline(GS_PIZZA, color="#999999", lw=1, ls=":")
    ax.text(DI_CLOCK + 0.02, GS_PIZZA - 0.03, "Clock", ha="left", va="top", fontsize=11,
            color="#1f77b4")  # fmt: skip
    ax.text(DI_CLOCK - 0.02, GS_PIZZA + 0.03, "Pizza", ha="right", va="bottom", fontsize=11,
            color="#d62728")  # fmt: skip
    ax.text(0.02, 0.45, "neither", ha="left", va="center", fontsize=10, color="#777777")
    for name, ref in (doc.get("references") or {}).items():
        ax.scatter([ref["distance_irrelevance"]], [ref["gradient_symmetricity"]], marker="*",
                   s=220, color="#ffbf00", edgecolor="black", zorder=3,
                   label="hand-built Clock / Pizza")  # fmt: skip
        ax.annotate(f"hand-built {name}", (ref["distance_irrelevance"], ref["gradient_symmetricity"]),
                    xytext=(8, -12), textcoords="offset points", fontsize=8)  # fmt: skip
    shown = 0
    for r in doc.get("runs") or []:
        di, gs = r.get("distance_irrelevance"), r.get("gradient_symmetricity")
        if di is None or gs is None:
            continue
        shown += 1
        ax.scatter([di], [gs], color=MODEL_COLORS.get(r.get("model"), "#555555"), s=40,
                   label=r.get("model"), zorder=4)  # fmt: skip
        ax.annotate(f"s{r.get('seed')}", (di, gs), xytext=(4, 3), textcoords="offset points",
                    fontsize=7, color="#333333")  # fmt: skip
    ax.set(xlim=(-0.05, hi), ylim=(lo, hi), xlabel="distance irrelevance",
           ylabel="gradient symmetricity")  # fmt: skip
    ax.grid(alpha=0.3)
    _legend_below(fig, (ax,))
    note = "" if shown else " — no run holds a circuit on which they apply"
    _suptitle(fig, f"Clock or Pizza (Zhong et al. 2023): each run's two measures{note}")
    return _save(fig, path)


def draw_all(doc: dict, folder: Path) -> list[Path]:
    """Every align figure into ``folder``; the paths written."""
    folder = Path(folder)
    paths = [
        plot_alignment(doc, folder / "alignment.png"),
        plot_frequencies(doc, folder / "frequencies.png"),
    ]
    runs = doc.get("runs") or []
    if doc.get("references") or any(r.get("algorithm") for r in runs):  # not for a group
        paths.append(plot_clock_pizza(doc, folder / "clockpizza.png"))
    return paths
