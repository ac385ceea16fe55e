"""Shared by the examples: the --quick switch CI uses so that no example can silently rot."""

from __future__ import annotations

import argparse


def parse_quick(doc: str | None) -> bool:
    """``--quick``: a tiny modulus and few steps, so CI can run the example in seconds."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny p and few steps (for CI)")
    return parser.parse_args().quick
