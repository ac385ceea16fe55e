"""Readings that need more than one node: a conditional's branches, and a node the user names.

**Branches.** ``x / y if y odd else x − y`` has no single node: a network that learned it
reads one half of its inputs through x/y (in discrete logs) and the other through x − y.
Read through any one node, its logits are explained only in part and no circuit is priced
(:mod:`compare.extract`). What can still be said is how far the best node goes on each
branch: the inputs are split by the condition and each part is read on its own, through
the fixed forms and the branch's own values (:func:`read_branches`). This says what each
branch computes; it prices nothing, because a circuit with two halves and a switch is not a
template this project's code has bits for.

**A node the user names** (``compare --node EXPR``) is a hypothesis: the logits are read
through it (:func:`read_user_node`), and through its controls — 2·u and inv(u) (mod n), inv(u),
u·u and u with x and y swapped in a group. u + 1 is no control for a node: the logit model's
phase absorbs a shift, so u and u + 1 read the same logits. The node is *supported* when its
reading is a found circuit and every control's is not found and explains at least
:data:`~compare.match.MARGIN` less of the logit variance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compare.extract import NodeReading, choose_node
from compare.logits import candidate_bases
from compare.match import MARGIN
from compare.nodes import logit_nodes, make_node, near_misses, user_node
from taskcore.language import Expr
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task


def reading_summary(r: NodeReading) -> dict:
    """What a report says of one reading."""
    p = r.program
    return {"node": r.fit.node.text, "basis": r.fit.node.basis.kind, "fve": r.fve,
            "node_share": r.fit.node_share(), "faithfulness": p.faithfulness,
            "faithfulness_test": p.faithfulness_test, "found": r.found}  # fmt: skip


def read_branches(logits: np.ndarray, task: Task, split: Split, program: Expr) -> list[dict]:
    """For a program ``ite(odd(c), a, b)``: the best reading of each branch's inputs, with
    ``condition`` saying which (empty for any other program)."""
    if program.op != "ite":
        return []
    cond, *branches = program.args
    x, y = np.meshgrid(np.arange(task.n), np.arange(task.n), indexing="ij")
    odd = task.algebra.values(cond, x, y) % 2 == 1
    out = []
    for branch, mask, parity in zip(branches, (odd, ~odd), ("odd", "even"), strict=True):
        if not (mask & task.domain).any():
            continue
        reading = choose_node(logits, task, split, logit_nodes(task, [branch.to_text()]), mask)
        out.append({"condition": f"{cond.pretty()} {parity}", "program": branch.to_text(),
                    **reading_summary(reading)})  # fmt: skip
    return out


@dataclass(frozen=True)
class NodeTest(JsonMixin):
    """``--node``: the logits read through the node the user names, beside its controls."""

    node: str
    reading: dict  # reading_summary of the node (its best basis)
    controls: list[dict] = field(default_factory=list)  # reading_summary of each control
    supported: bool = False
    verdict: str = ""


def read_through(logits: np.ndarray, task: Task, split: Split, text: str) -> NodeReading:
    """The best reading of the logits through ``text`` in any of the task's bases."""
    nodes = [node for b in candidate_bases(task) if (node := make_node(text, b, task))]
    return choose_node(logits, task, split, nodes)


def read_user_node(
    logits: np.ndarray, task: Task, split: Split, text: str
) -> tuple[NodeReading, NodeTest]:
    """Read the logits through the user's node and its controls (module docstring)."""
    e = user_node(text, task)
    reading = read_through(logits, task, split, e.to_text())
    mine = reading_summary(reading)
    controls = [reading_summary(read_through(logits, task, split, c))
                for c in near_misses(e, task, shift=False)]  # fmt: skip
    beaten = all(not c["found"] and mine["fve"] - c["fve"] >= MARGIN for c in controls)
    supported = reading.found and beaten
    u = e.to_text()
    facts = (f"variance explained {mine['fve']:.1%}, faithful on {mine['faithfulness']:.1%} "
             f"of inputs")  # fmt: skip
    if supported:
        verdict = (f"the network is read through u = {u} ({facts}); its controls "
                   f"{', '.join(c['node'] for c in controls) or '(none)'} are not")  # fmt: skip
    elif reading.found:
        verdict = (f"u = {u} reads the network ({facts}), but so does a control: "
                   "not evidence for this node")  # fmt: skip
    else:
        verdict = f"the network is not read through u = {u} ({facts})"
    return reading, NodeTest(u, mine, controls, supported, verdict)
