"""synthcmp: the shortest program vs. the program a network learned, on small algorithmic tasks.

Kept light on purpose: importing ``synthcmp`` (and so starting the CLI) must not import torch.
"""

__version__ = "0.1.0"
