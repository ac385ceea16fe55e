"""synthcmp: the shortest program vs. the program a network learned, on small algorithmic tasks.

Kept light on purpose: importing ``synthcmp`` (and so starting the CLI) must not import torch.
"""

__version__ = "0.1.0"
__all__ = ["Report", "run"]


def __getattr__(name: str):
    """``synthcmp.run`` and ``synthcmp.Report`` (:mod:`synthcmp.api`), imported on first use:
    the comparison needs torch, the CLI's start does not."""
    if name in __all__:
        from synthcmp import api

        return getattr(api, name)
    raise AttributeError(f"module 'synthcmp' has no attribute {name!r}")
