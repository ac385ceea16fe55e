"""Rich rendering of a :class:`compare.CompareResult`: the circuit, the match table, the
progress measures and the phases. Takes the result's JSON document
(``CompareResult.to_json()``), so it can render a stored report as well; a key the document
lacks is shown as "–", never a crash.

Every panel takes the width it may use (the console's, at most :data:`WIDTH`) and fits it
at 80 columns as at 100: numbers never wrap, labels wrap at spaces, nothing is cut with "…".
Under each table a dim legend says what its columns mean, from the one glossary
(:mod:`synthcmp.render.glossary`) that ``synthcmp explain`` prints.
"""

from __future__ import annotations

import math

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from synthcmp.render.glossary import GLOSSARY, THRESHOLDS, legend

WIDTH = 100  # the widest a panel gets; narrower consoles get their own width
PHASES = ("memorization", "circuit_formation", "cleanup")
DASH = "–"


def panel_width(console: Console) -> int:
    return min(console.width, WIDTH)


def get(d: dict | None, *keys: str):
    """The first of ``keys`` that ``d`` holds with a value (old and new names alike), else None."""
    for key in keys:
        if d and d.get(key) is not None:
            return d[key]
    return None


def fmt(v, spec: str = ".3f") -> str:
    if v is None or isinstance(v, str):
        return v or DASH
    if isinstance(v, float) and not math.isfinite(v):
        return DASH
    return format(v, spec)


def pct(v) -> str:
    return fmt(v, ".1%")


def panel(body, title: str, width: int) -> Panel:
    return Panel(body, title=title, title_align="left", width=width)


def numbers_table(
    *columns: str, text: str | None = None, lead: tuple[str, ...] = (), **options
) -> Table:
    """A borderless table: ``lead`` columns (short, never wrap), a ``text`` column that wraps
    at spaces, then number ``columns`` that never wrap."""
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in lead:
        t.add_column(col, justify="right", no_wrap=True)
    if text is not None:
        t.add_column(text, overflow="fold", **options)
    for col in columns:
        t.add_column(col, justify="right", no_wrap=True)
    return t


def circuit_panel(
    c: dict | None, width: int = WIDTH, title: str = "circuit", why: str = ""
) -> Panel:
    """Key frequencies with their shares, then the circuit's measures (or why there are none)."""
    if not c:
        said = f"no Fourier circuit — {why}" if why else "no circuit in this report"
        return panel(Text(said, style="yellow"), title, width)
    basis = DASH
    if c.get("basis") == "additive":
        basis = f"Fourier over Z_{c.get('m', '?')}"
    elif c.get("basis") == "dlog":
        basis = f"discrete logs (g = {c.get('g', '?')}) over Z_{c.get('m', '?')}"
    elif c.get("basis") == "irreps":
        basis = f"irreducible representations of {c.get('group') or '?'}"
    keys = c.get("key_frequencies") or []
    if c.get("basis") == "irreps":
        freqs = numbers_table("dim", "logit share", "embedding share", "α", text="irrep")
        for ir in c.get("key_irreps") or []:
            freqs.add_row(ir.get("name") or DASH, fmt(ir.get("dim"), "d"), pct(ir.get("share")),
                          pct(ir.get("embedding_share")), fmt(ir.get("alpha"), ".2f"))  # fmt: skip
        terms = ("irrep", "logit share", "embedding share", "α_k")
    else:
        freqs = numbers_table("logit share", "embedding share", "α_k", lead=("k",))
        logit, emb, alphas = (c.get(k) or [] for k in ("frequency_share", "embedding_share", "alpha"))
        for i, k in enumerate(keys):
            freqs.add_row(
                str(k),
                pct(logit[k]) if k < len(logit) else DASH,
                pct(emb[k]) if k < len(emb) else DASH,
                fmt(alphas[i], ".2f") if i < len(alphas) else DASH,
            )  # fmt: skip
        terms = ("logit share", "embedding share", "α_k")
    if keys:
        top = [freqs, legend(*terms)]
    else:
        share = THRESHOLDS["key_share"]
        what = "irrep" if c.get("basis") == "irreps" else "frequency"
        top = [Text(f"no key {what}: none holds {share:.0%} of the logits' energy", "yellow")]

    stats = Table(box=None, show_header=False, pad_edge=False)
    stats.add_column(style="dim", overflow="fold")
    stats.add_column(overflow="fold")
    losses = " / ".join(fmt(c.get(k)) for k in ("full_loss", "restricted_loss", "excluded_loss"))
    rows = [
        ("basis, u", f"{basis}, u = {c.get('form') or DASH}"),
        ("key share (of the embedding)", pct(c.get("key_share"))),
        ("irreps for 90%" if c.get("basis") == "irreps" else "frequencies for 90%",
         fmt(c.get("frequencies_for_90"), "d")),
        ("variance explained (logits)", pct(c.get("fve"))),
        ("loss: full / restricted / excluded", losses),
        ("chance loss (log n)", fmt(c.get("chance_loss"))),
        ("faithfulness", pct(c.get("faithfulness"))),
        ("description length", DASH + " (no faithful circuit)" if c.get("bits") is None
                               else f"{fmt(c['bits'], ',.1f')} bits"),
    ]  # fmt: skip
    if c.get("neuron_layer"):
        clusters = c.get("neuron_clusters") or {}
        names = c.get("irrep_names") or []
        irreps = c.get("basis") == "irreps"

        def label(k: str) -> str:
            return names[int(k)] if irreps and int(k) < len(names) else f"k={k}"

        named = ", ".join(f"{label(k)}: {v}" for k, v in
                          sorted(clusters.items(), key=lambda kv: -kv[1]) if k != "0")  # fmt: skip
        on_key = pct(c.get("neuron_key_fraction"))
        what = "irrep" if irreps else "frequency"
        rows.append(
            (f"neurons by {what} ({c['neuron_layer']})",
             f"{named or DASH}; other {clusters.get('0', 0)}; {on_key} on a key {what}")
        )  # fmt: skip
    for label, value in rows:
        stats.add_row(label, value)
    note = legend("variance explained", "restricted loss", "excluded loss", "faithfulness")
    return panel(Group(*top, Text(""), stats, note), title, width)


SCORES = (  # (JSON key, column header = glossary term, format)
    ("behaviour", "behaviour", ".1%"),
    ("behaviour_train", "on train", ".1%"),
    ("behaviour_test", "on test", ".1%"),
    ("logit_correlation", "logit corr", ".2f"),
    ("intervention", "IIA", ".2f"),
)
EVIDENCE = {"logit_correlation": "logit corr", "intervention": "IIA"}


def score(p: dict, key: str):
    return get(p.get("scores"), key)


def evidence_line(match: dict) -> Text | None:
    """Which scores about *how* separate the matched program from its near misses."""
    said = match.get("evidence") or {}
    if not said or not match.get("controls"):
        return None
    yes = [EVIDENCE[k] for k, v in said.items() if v and k in EVIDENCE]
    no = [EVIDENCE[k] for k, v in said.items() if not v and k in EVIDENCE]
    parts = []
    if yes:
        parts.append(f"{' and '.join(yes)} separate{'s' if len(yes) == 1 else ''} "
                     f"{match.get('program')} from its near misses: evidence of how")  # fmt: skip
    if no:
        parts.append(f"{' and '.join(no)} do{'es' if len(no) == 1 else ''} not: "
                     "not evidence here")  # fmt: skip
    return Text("; ".join(parts) + ".", style="green" if not no else "yellow")


def match_table(
    programs: list[dict], match: dict, width: int = WIDTH, title: str = "match", noise=None
) -> Panel:
    """Each candidate against the network: behaviour decides, the other scores tell how.

    Shows the score columns the candidates have (older and newer reports differ)."""
    shown = [(key, head, spec) for key, head, spec in SCORES
             if any(score(p, key) is not None for p in programs)]  # fmt: skip
    t = numbers_table("bits", *(head for _, head, _ in shown), text="program", lead=("#",),
                      min_width=10)  # fmt: skip
    matched = match.get("program") if match.get("implements") else None
    controls = False
    for p in programs:
        expr = p.get("program") or DASH
        style = "bold green" if matched is not None and expr == matched else None
        if p.get("kind") == "control":
            if not controls:  # the near misses follow, under their own heading
                t.add_row("", Text("near misses", style="italic"), style="dim")
            controls, style = True, "dim"
        t.add_row(str(p.get("rank", DASH)), expr, fmt(p.get("bits"), ",.1f"),
                  *(fmt(score(p, key), spec) for key, _, spec in shown), style=style)  # fmt: skip
    colour = "green" if match.get("implements") else "yellow"
    body = [t, legend(*(head for _, head, _ in shown)), Text("")]
    if controls:
        body.insert(2, legend("near miss"))
    body.append(Text(match.get("verdict") or DASH, style=colour))
    line = evidence_line(match)
    if line is not None:
        body.append(line)
    if noise:
        body.append(Text(
            f"noisy training labels: {fmt(noise.get('noisy'), ',')}; the network answers "
            f"{fmt(noise.get('fit_noisy'), ',')} of them as given (it fit the noise) and "
            f"{fmt(noise.get('fit_clean'), ',')} as the true function would", style="dim",
        ))  # fmt: skip
    return panel(Group(*body), title, width)


def checkpoints(progress: list[dict], phases: dict) -> list[tuple[dict, str]]:
    """The checkpoints to show, with their labels: the start, the one nearest each phase's
    end (phases that end near the same checkpoint share its column), the last."""
    marks = [(progress[0].get("step", 0) if progress else 0, "start")]
    marks += [(phases[name], name.replace("_", " ")) for name in PHASES
              if phases.get(name) is not None]  # fmt: skip
    chosen: list[tuple[dict, list[str]]] = []
    for step, label in sorted(marks, key=lambda m: m[0]):
        near = min(progress, key=lambda p, s=step: abs(p.get("step", 0) - s), default=None)
        if near is None:
            continue
        same = next((labels for c, labels in chosen if c is near), None)
        if same is None:
            chosen.append((near, [label]))
        elif label not in same and "start" not in same:
            same.append(label)
    if progress and all(progress[-1] is not c for c, _ in chosen):
        chosen.append((progress[-1], ["final"]))
    return [(c, labels[0] if labels in (["start"], ["final"]) else "\n".join([*labels, "ends"]))
            for c, labels in chosen]  # fmt: skip


MEASURES = (  # (row label, key, format) of the progress table
    ("checkpoint step", "step", "d"),
    ("train loss", "train_loss", ".3f"),
    ("test loss", "test_loss", ".3f"),
    ("restricted loss", "restricted_loss", ".3f"),
    ("excluded loss", "excluded_loss", ".3f"),
    ("key share", "key_share", ".1%"),
    ("‖θ‖", "weight_norm", ".1f"),
    ("bits", "bits", ",.1f"),
    ("bits from", "rung", "s"),  # the shorter code there: the checkpoint's circuit or the table
)


def progress_panel(progress: list[dict], phases: dict, width: int = WIDTH,
                   title: str = "progress over training") -> Panel:  # fmt: skip
    """The measures (rows) at the start, at each phase's end and at the end (columns), then
    the phases themselves."""
    body: list = []
    chosen = checkpoints(progress, phases)
    if chosen:
        t = numbers_table(*(label for _, label in chosen), text="", no_wrap=True)
        for label, key, spec in MEASURES:
            if key == "rung" and not any(p.get(key) for p, _ in chosen):
                continue  # a report from before the description-length curve
            t.add_row(label, *(fmt(p.get(key), spec) for p, _ in chosen))
        body += [t, legend("loss", "key share", "‖θ‖", "bits"), Text("")]
    else:
        body += [Text("no checkpoints: progress measures skipped", style="dim"), Text("")]
    ends = Table(box=None, header_style="bold", pad_edge=False)
    ends.add_column("phase", no_wrap=True)
    ends.add_column("ends at", no_wrap=True)
    ends.add_column("what happens", style="dim", overflow="fold")
    for name in PHASES:
        step = phases.get(name)
        term = GLOSSARY[name.replace("_", " ")]
        unread = step is None and phases.get("note") and name != "memorization"
        ends.add_row(term.name, "not read" if unread else "not reached" if step is None
                     else f"step {step}", term.line())  # fmt: skip
    body.append(ends)
    if phases.get("note"):
        body.append(Text(phases["note"], style="yellow"))
    return panel(Group(*body), title, width)


def candidates(document: dict) -> list[dict]:
    """The programs held against the network."""
    return document.get("candidates") or []


def render_compare(document: dict, console: Console) -> None:
    """Print the circuit, the match table and the progress summary."""
    width = panel_width(console)
    console.print(
        f"[bold]{document.get('task', DASH)}[/] (n = {document.get('n', DASH)})   "
        f"run: {document.get('run_dir') or DASH}",
        overflow="fold",
    )
    console.print(circuit_panel(document.get("circuit"), width, why=document.get("why") or ""))
    console.print(match_table(candidates(document), document.get("match") or {}, width,
                              noise=document.get("noise")))  # fmt: skip
    console.print(progress_panel(document.get("progress") or [], document.get("phases") or {},
                                 width, "progress over training (losses in nats)"))  # fmt: skip
