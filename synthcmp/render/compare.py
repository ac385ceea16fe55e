"""Rich rendering of a :class:`compare.CompareResult`: the circuit, the match table, the
progress measures and the phases. Fits a 100-column terminal. Takes the result's JSON
document (``CompareResult.to_json()``), so it can render a stored report as well."""

from __future__ import annotations

import math

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def _f(v, fmt: str = ".3f") -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _pct(v) -> str:
    return _f(v, ".1%")


def circuit_panel(c: dict) -> Panel:
    """Key frequencies with their shares, then the circuit's measures."""
    basis = (
        f"Fourier over Z_{c['m']}"
        if c["basis"] == "additive"
        else (f"discrete logs (g = {c['g']}) over Z_{c['m']}")
    )
    freqs = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    freqs.add_column("k", justify="right")
    freqs.add_column("logit share", justify="right")
    freqs.add_column("embedding share", justify="right")
    freqs.add_column("α_k", justify="right")
    emb = c.get("embedding_share") or []
    for k, a in zip(c["key_frequencies"], c["alpha"], strict=True):
        freqs.add_row(
            str(k),
            _pct(c["frequency_share"][k]),
            _pct(emb[k]) if k < len(emb) else "–",
            _f(a, ".2f"),
        )
    if not c["key_frequencies"]:
        freqs.add_row("–", "no frequency holds 2% of the logit variance", "", "")

    stats = Table(box=None, pad_edge=False, show_header=False)
    stats.add_column(style="dim")
    stats.add_column()
    rows = [
        ("basis, u", f"{basis}, u = {c['form']}"),
        ("key frequencies' embedding share", _pct(c.get("key_embedding_share"))),
        ("frequencies for 90% of the embedding", str(c.get("frequencies_for_90") or "–")),
        ("logit model variance explained", _pct(c["fve"])),
        (
            "loss: full / restricted / excluded",
            f"{_f(c['full_loss'])} / {_f(c['restricted_loss'])} / {_f(c['excluded_loss'])}",
        ),
        ("chance loss log n", _f(c["chance_loss"])),
        ("faithfulness (argmax = network's)", _pct(c["faithfulness"])),
        ("description length", f"{_f(c['bits'], '.1f')} bits"),
    ]
    if c.get("neuron_layer"):
        clusters = ", ".join(
            f"k={k}: {v}"
            for k, v in sorted(c["neuron_clusters"].items(), key=lambda kv: -kv[1])
            if k != "0"
        )
        other = c["neuron_clusters"].get("0", 0)
        rows.append(
            (f"{c['neuron_layer']} neurons by frequency", f"{clusters or '–'}; other {other}")
        )
        rows.append(("neurons on a key frequency", _pct(c.get("neuron_key_fraction"))))
    for label, value in rows:
        stats.add_row(label, value)
    return Panel(Group(freqs, Text(""), stats), title="circuit", title_align="left", width=100)


def match_table(programs: list[dict], match: dict) -> Panel:
    t = Table(header_style="bold", expand=False, box=None)
    t.add_column("#", justify="right")
    t.add_column("program", max_width=30, overflow="fold")
    t.add_column("bits", justify="right")
    t.add_column("behaviour", justify="right")
    t.add_column("on train", justify="right")
    t.add_column("spectrum", justify="right")
    t.add_column("support", justify="right")
    t.add_column("η² (intermediates)", justify="right")
    for p in programs:
        style = "bold green" if match.get("implements") and p["expr"] == match["program"] else None
        t.add_row(
            str(p["rank"]), p["expr"], _f(p["bits"], ".1f"), _pct(p["behaviour"]),
            _pct(p["train_behaviour"]), _pct(p["spectrum"]), _f(p["support"], ".2%"),
            _f(p["intermediates"], ".2f"), style=style,
        )  # fmt: skip
    colour = "green" if match.get("implements") else "yellow"
    verdict = Text(match["verdict"], style=colour)
    return Panel(Group(t, Text(""), verdict), title="match", title_align="left", width=100)


def progress_panel(progress: list[dict], phases: dict) -> Panel:
    """The measures at the start, at the checkpoint nearest each phase boundary, at the end."""
    marks = {0: "start"}
    if progress:
        marks[progress[0]["step"]] = "start"
    for name in ("memorization", "circuit_formation", "cleanup"):
        if phases.get(name) is not None:  # shown at the nearest checkpoint
            marks[phases[name]] = f"{name.replace('_', ' ')} ends"
    chosen = []
    for step, label in sorted(marks.items()):
        near = min(progress, key=lambda p, s=step: abs(p["step"] - s), default=None)
        if near is not None and all(near is not c for c, _ in chosen):
            chosen.append((near, label))
    if progress and all(progress[-1] is not c for c, _ in chosen):
        chosen.append((progress[-1], "final"))

    t = Table(header_style="bold", box=None)
    t.add_column("step", justify="right", no_wrap=True)
    t.add_column("", min_width=9)  # the label wraps first when the terminal is narrow
    for col in ("train", "test", "restricted", "excluded", "key share", "‖θ‖", "bits"):
        t.add_column(col, justify="right", no_wrap=True)
    for p, label in chosen:
        t.add_row(
            str(p["step"]), label, _f(p["train_loss"]), _f(p["test_loss"]), _f(p["restricted_loss"]),
            _f(p["excluded_loss"]), _pct(p["key_share"]), _f(p["weight_norm"], ".1f"), _f(p["bits"], ".1f"),
        )  # fmt: skip
    line = "   ".join(
        f"{name.replace('_', ' ')}: {'step ' + str(phases[name]) if phases.get(name) is not None else 'not reached'}"
        for name in ("memorization", "circuit_formation", "cleanup")
    )
    body = [Text("phase ends — " + line)]
    if progress:
        body = [t, Text(""), *body]
    else:
        body.append(Text("no checkpoints: progress measures skipped", style="dim"))
    return Panel(
        Group(*body), title="progress over training (losses in nats)", title_align="left", width=100
    )


def render_compare(document: dict, console: Console) -> None:
    """Print the circuit, the match table and the progress summary."""
    console.print(
        f"[bold]{document['task']}[/] (n = {document['n']})   run: {document.get('run_dir')}"
    )
    console.print(circuit_panel(document["circuit"]))
    console.print(match_table(document["programs"], document["match"]))
    console.print(progress_panel(document.get("progress", []), document["phases"]))
