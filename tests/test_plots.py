"""The report's figures: each plot function writes a readable PNG from small arrays.

Properties, not pixel snapshots: a PNG of a sensible size (no 352-pixel sliver when there is
nothing to draw), titles wrapped rather than clipped, residue labels spread around the ring.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from synthcmp.render import report
from synthcmp.render.figures import run as plots

PHASES = {"memorization": 20, "circuit_formation": 60, "cleanup": 120}


def metrics(n: int = 30) -> list[dict]:
    steps = np.unique(np.geomspace(1, 200, n).astype(int)) - 1
    t = np.linspace(0, 1, len(steps))
    return [
        {"step": int(s), "train_acc": min(1.0, 3 * x), "test_acc": x**3,
         "train_loss": 3 * (1 - x) + 1e-3, "test_loss": 3 * (1 - x**3) + 1e-2}
        for s, x in zip(steps, t, strict=True)
    ]  # fmt: skip


def progress() -> list[dict]:
    return [
        {**m, "restricted_loss": m["test_loss"] / 2, "excluded_loss": 4.0,
         "key_share": m["test_acc"], "weight_norm": 20 - 5 * m["test_acc"]}
        for m in metrics(12)
    ]  # fmt: skip


def ring(m: int, k: int) -> np.ndarray:
    angle = 2 * np.pi * k * np.arange(m) / m
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def sensible(path, min_width: int = 600) -> None:
    width, height = size(path)
    assert min_width <= width <= 2000, (path.name, width)
    assert 250 <= height <= 2000, (path.name, height)


LONG_TITLE = "modcond: x / y if y odd else x − y (mod p), y ≠ 0 — each residue on (cos, sin) " * 2


def test_training(tmp_path):
    sensible(plots.plot_training(metrics(), PHASES, tmp_path / "t.png", "modadd: x + y"))


def test_training_without_phases(tmp_path):
    sensible(plots.plot_training(metrics(), {}, tmp_path / "t.png", LONG_TITLE))


def test_spectrum(tmp_path):
    shares = list(np.full(11, 0.02))
    shares[2], shares[6] = 0.5, 0.3
    sensible(plots.plot_spectrum(shares, [3, 7], tmp_path / "s.png", LONG_TITLE))


def test_spectrum_without_key_frequencies(tmp_path):
    sensible(plots.plot_spectrum([0.0] * 5, [], tmp_path / "s.png", "lookup"))


@pytest.mark.parametrize("keys", [[2], [2, 5, 7], [1, 2, 3, 4, 5]])
def test_circles(tmp_path, keys):
    m = 13
    coords = {k: ring(m, k) for k in keys}
    path = plots.plot_circles(coords, np.arange(m), np.arange(m), m, tmp_path / "c.png",
                              LONG_TITLE)  # fmt: skip
    sensible(path)


def test_circles_without_key_frequencies_is_a_full_width_figure(tmp_path):
    path = plots.plot_circles({}, np.arange(11), np.arange(11), 11, tmp_path / "c.png",
                              LONG_TITLE)  # fmt: skip
    sensible(path, min_width=800)  # once a 352-pixel square, its title cut at both sides


def test_residue_labels_spread_around_the_ring():
    """A dozen labels, evenly spread by angle, each pushed outward: none on top of another."""
    m, k = 97, 5
    xy = ring(m, k)
    fig, ax = plt.subplots()
    plots._label_ring(ax, xy, np.arange(m))
    texts = [t for t in ax.texts]
    plt.close(fig)
    assert len(texts) == 12
    angles = sorted(math.atan2(*reversed(t.xy)) % (2 * math.pi) for t in texts)
    gaps = np.diff(angles + [angles[0] + 2 * math.pi])
    assert gaps.min() > 0.5 * 2 * math.pi / 12
    for t in texts:  # the offset points away from the centre
        (x, y), (dx, dy) = t.xy, t.xyann
        assert x * dx + y * dy > 0


def test_progress(tmp_path):
    sensible(plots.plot_progress(progress(), PHASES, tmp_path / "p.png", "modadd"))


def test_progress_with_missing_measures(tmp_path):
    rows = [{**p, "restricted_loss": None, "key_share": None} for p in progress()]
    sensible(plots.plot_progress(rows, {}, tmp_path / "p.png", "lookup"))


@pytest.mark.parametrize("program", ["x + y", "ite(odd(y), x * inv(y), x - y) if y else 0"])
def test_predictions(tmp_path, program):
    n = 11
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    table = (x + y) % n
    predicted = table.copy()
    predicted[0, :3] = 0
    domain = np.ones((n, n), dtype=bool)
    domain[:, 0] = False  # a task with y ≠ 0
    path = plots.plot_predictions(predicted, np.where(domain, table, -1), domain,
                                  tmp_path / "pr.png", LONG_TITLE, program)  # fmt: skip
    sensible(path)


def test_sparkline_fills_its_width():
    steps = list(range(0, 1000, 10))
    line = report.sparkline(steps, [s / 1000 for s in steps], 37)
    assert len(line) == 37
    assert line[0] == report.SPARK[0] and line[-1] == report.SPARK[-1]


def test_sparkline_of_nothing_and_of_nan():
    assert report.sparkline([], [], 20) == ""
    assert report.sparkline([0, 1, 2], [float("nan"), 0.5, 1.0], 5)  # NaN draws as 0


def test_a_figure_replaces_a_link_planted_at_its_path_never_writes_through_it(tmp_path):
    target = tmp_path / "users.png"
    target.write_text("the user's own file")
    planted = tmp_path / "training.png"
    planted.symlink_to(target)
    plots.plot_circles({}, np.arange(11), np.arange(11), 11, planted, "title")
    assert target.read_text() == "the user's own file"
    assert planted.is_file() and not planted.is_symlink() and planted.read_bytes()[:4] == b"\x89PNG"
