"""The synthesizer's settings and what it reports while it works (plain values; JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass

from taskcore.serial import JsonMixin


@dataclass(frozen=True)
class SynthConfig(JsonMixin):
    """Search budgets and knobs (plain values; JSON-ready).

    ``top_k``: stop after this many exact solutions. ``max_bits``: stop before the first
    level costlier than this. ``timeout_s`` / ``max_memory_mb``: wall-clock and bank-size
    budgets. ``sample_size``: training inputs the fingerprints are taken on. ``near_misses``:
    how many inexact programs are kept for MDL ranking. ``seed`` seeds the sample and hashes.
    """

    top_k: int = 3
    max_bits: float = 32.0
    timeout_s: float = 30.0
    max_memory_mb: float = 2048.0
    sample_size: int = 32
    near_misses: int = 8
    chunk: int = 1 << 17
    seed: int = 0


@dataclass(frozen=True)
class SearchProgress:
    """What the search reports after each level (for a progress display)."""

    bits: float  # the level just finished
    kept: int  # distinct functions in the bank
    programs: int  # candidates built so far
    solutions: int
    seconds: float
