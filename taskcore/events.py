"""The named events and thresholds, each defined once.

The trainer, compare, the report, the plots and the JSON all say "memorized", "grokked",
"faithful" and "implements"; each word has exactly one definition, here:

* **memorized** — every training pair is fitted: train accuracy = 1 (on the labels the
  network was given, noisy ones included). The memorization step is the first logged step
  where that holds.
* **grokked** — the rule is found: test accuracy ≥ :data:`GROK_ACC` on the held-out pairs
  (whose labels are always clean). The grok step is the first logged step where that holds.
* **faithful** — a circuit describes the network when its argmax agrees with the network's
  on at least :data:`FAITHFUL` of the valid inputs.
* **implements** — the network implements a program it agrees with on at least
  :data:`IMPLEMENTS` of the valid inputs *and* of the held-out pairs (with 90% of the pairs
  in training, agreeing on 99% of all inputs says little about the other 10%); it
  implements it **partly** when the program is
  right on at least :data:`PARTIAL` of the held-out pairs (the agreement is then reported as
  a share, "implements x − y on 98.4% of inputs", never rounded up to a verdict).

Events are read off metric rows (dicts with ``step``, ``train_acc``, ``test_acc``), so the
trainer's log, the checkpoints and a stored report all give the same step.
"""

from __future__ import annotations

from collections.abc import Iterable

MEMORIZED_ACC = 1.0
GROK_ACC = 0.99
FAITHFUL = 0.9
IMPLEMENTS = 0.99
PARTIAL = 0.5


def memorized(row: dict) -> bool:
    return row.get("train_acc") is not None and row["train_acc"] >= MEMORIZED_ACC


def grokked(row: dict) -> bool:
    return row.get("test_acc") is not None and row["test_acc"] >= GROK_ACC


def first_step(rows: Iterable[dict], event) -> int | None:
    """The step of the first row (in step order) where ``event(row)`` holds, else None."""
    return next((int(r["step"]) for r in sorted(rows, key=lambda r: r["step"]) if event(r)), None)


def memorization_step(rows: Iterable[dict]) -> int | None:
    return first_step(rows, memorized)


def grok_step(rows: Iterable[dict]) -> int | None:
    return first_step(rows, grokked)
