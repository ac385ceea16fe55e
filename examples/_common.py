"""Shared by the examples: their command line (``--help``, and the ``--quick`` switch CI uses
so that no example can silently rot)."""

from __future__ import annotations

import argparse


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose help is the example's docstring, with ``--quick``."""
    parser = argparse.ArgumentParser(
        description=(doc or "").split("\n\n")[0],
        epilog="\n\n".join((doc or "").split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny p and few steps (for CI)")
    return parser


def parse_quick(doc: str | None) -> bool:
    """``--quick``: a tiny modulus and few steps, so CI can run the example in seconds."""
    return parser(doc).parse_args().quick


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value
