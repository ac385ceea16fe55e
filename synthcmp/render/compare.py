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
from taskcore.events import PHASES, BasisKind, phase_columns

WIDTH = 100  # the widest a panel gets; narrower consoles get their own width
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


BASES = {BasisKind.ADDITIVE: "Fourier over Z_{m}", BasisKind.DLOG: "discrete logs (g = {g}) over Z_{m}",
         BasisKind.IRREPS: "irreducible representations of {group}"}  # fmt: skip


def basis_name(c: dict) -> str:
    kind = BASES.get(c.get("basis") or "")
    return kind.format(m=c.get("m", "?"), g=c.get("g", "?"), group=c.get("group") or "?") if kind else DASH


def with_baseline(value: str, baseline, what: str = "random key sets") -> str:
    """``value (random key sets: b)`` with b as a share, or the value alone without one."""
    b = pct(baseline)
    return value if b == DASH else f"{value} ({what}: {b})"


def key_table(c: dict) -> Table:
    """One row per key irrep: its share of the logits and of the embedding, its weight α
    (the wave's amplitude, with its phase φ where the model has one)."""
    irreps, phased = c.get("basis") == BasisKind.IRREPS, bool(c.get("beta"))
    cols = ["logit share", "embedding share", "α_k"] + (["φ_k"] if phased else [])
    t = numbers_table(*(["dim"] if irreps else []), *cols, text="irrep" if irreps else None,
                      lead=() if irreps else ("k",))  # fmt: skip
    rows = c.get("key_irreps") or []
    for k, ir in zip(c.get("key_frequencies") or [], rows, strict=False):
        weight = ir.get("amplitude") if phased else ir.get("alpha")
        cells = [pct(ir.get("share")), pct(ir.get("embedding_share")), fmt(weight, ".2f")]
        if phased:
            cells.append(fmt(ir.get("phase"), "+.2f"))
        t.add_row(*([ir.get("name") or DASH, fmt(ir.get("dim"), "d")] if irreps else [str(k)]),
                  *cells)  # fmt: skip
    return t


def circuit_panel(
    c: dict | None, width: int = WIDTH, title: str = "circuit", why: str = ""
) -> Panel:
    """Key irreps with their shares, then the circuit's measures beside their baselines (or
    why there is no circuit), then what cannot fail here and how far each branch goes."""
    if not c:
        said = f"no Fourier circuit — {why}" if why else "no circuit in this report"
        return panel(Text(said, style="yellow"), title, width)
    irreps = c.get("basis") == BasisKind.IRREPS
    what = "irrep" if irreps else "frequency"
    node = c.get("node") or c.get("form") or DASH
    if c.get("key_frequencies"):
        terms = ["logit share", "embedding share", "α_k"] + (["φ_k"] if c.get("beta") else [])
        top = [key_table(c), legend(*terms)]
    else:
        share = THRESHOLDS["key_share"]
        top = [Text(f"no key {what}: none holds {share:.0%} of the logits' energy along "
                    f"u = {node}", "yellow")]  # fmt: skip

    stats = Table(box=None, show_header=False, pad_edge=False)
    stats.add_column(style="dim", overflow="fold")
    stats.add_column(overflow="fold")
    bits = c.get("node_bits")
    rows = [("basis, node u", f"{basis_name(c)}, u = {node}"
             + (f" ({fmt(bits, '.2f')} bits)" if bits is not None else ""))]  # fmt: skip
    e = c.get("embedding_node")
    if e and not irreps:
        rows.append(("embedding read through e", with_baseline(
            f"e(x) = {e}: {pct(c.get('embedding_node_share'))} of the embedding in its key "
            "waves", c.get("embedding_node_baseline"), "e relabelled at random")))  # fmt: skip
    rows += [
        ("key share (of the embedding)", with_baseline(pct(c.get("key_share")),
                                                      c.get("key_share_baseline"))),
        (f"{'irreps' if irreps else 'frequencies'} for 90%", fmt(c.get("frequencies_for_90"), "d")),
        ("variance explained (logits)", pct(c.get("fve")) + (
            f" of the {pct(c['node_share'])} that is a function of u (node share)"
            if c.get("node_share") is not None else "")),
        ("loss: full / restricted / excluded",
         " / ".join(fmt(c.get(k)) for k in ("full_loss", "restricted_loss", "excluded_loss"))
         + (f" (restricted, random key sets: {fmt(c['restricted_loss_baseline'])})"
            if c.get("restricted_loss_baseline") is not None else "")),
        ("chance loss (log n)", fmt(c.get("chance_loss"))),
        ("faithfulness", pct(c.get("faithfulness")) + (
            f" of inputs, {pct(c['faithfulness_test'])} of held-out pairs"
            if c.get("faithfulness_test") is not None else "")),
        ("description length", f"{fmt(c['bits'], ',.1f')} bits" if c.get("bits") is not None
         else f"{DASH} (no circuit: {c.get('why_not_found') or 'not faithful'})"),
    ]  # fmt: skip
    if c.get("neuron_layer"):
        clusters = c.get("neuron_clusters") or {}
        names = c.get("irrep_names") or []

        def label(k: str) -> str:  # the harmonics' own name for the irrep ("k=3", "sign")
            return names[int(k)] if int(k) < len(names) else f"k={k}"

        named = ", ".join(f"{label(k)}: {v}" for k, v in
                          sorted(clusters.items(), key=lambda kv: -kv[1]) if k != "0")  # fmt: skip
        of_e = f"in e = {e}: " if e and e != "x" and not irreps else ""
        rows.append((f"neurons by {what} ({c['neuron_layer']})",
                     f"{of_e}{named or DASH}; other {clusters.get('0', 0)}; "
                     f"{pct(c.get('neuron_key_fraction'))} on a key {what}"))  # fmt: skip
    for label_, value in rows:
        stats.add_row(label_, value)
    body = [*top, Text(""), stats]
    if c.get("measures_can_fail") is False:
        body.append(Text(
            f"The key {what}s span {pct(c.get('key_span'))} of the functions of u: keeping them "
            "keeps almost everything, so restricted loss and key share cannot fail here (a "
            "random key set of the same size does as well): they are not evidence.",
            style="yellow"))  # fmt: skip
    if c.get("branches"):
        body.append(branches_text(c["branches"]))
    body.append(legend("variance explained", "node share", "restricted loss", "excluded loss",
                       "faithfulness", "random key sets"))  # fmt: skip
    return panel(Group(*body), title, width)


def branches_text(branches: list[dict]) -> Text:
    """How far the best node goes on each branch of a conditional."""
    short = {BasisKind.ADDITIVE: "Fourier", BasisKind.DLOG: "in discrete logs", BasisKind.IRREPS: BasisKind.IRREPS}
    parts = [f"{b.get('condition')}: u = {b.get('node')} ({short.get(b.get('basis'), '?')}), "
             f"faithful on {pct(b.get('faithfulness'))}, variance explained {pct(b.get('fve'))}"
             for b in branches]  # fmt: skip
    return Text("No single node explains the logits of this conditional; read per branch — "
                + "; ".join(parts) + ". A circuit with two halves and a switch is not priced.",
                style="yellow")  # fmt: skip


def node_test_panel(test: dict, width: int = WIDTH, title: str = "node test") -> Panel:
    """``--node``: the node the user named against its controls, with the verdict."""
    t = numbers_table("variance explained", "node share", "faithfulness", "on test",
                      text="node", min_width=10)  # fmt: skip
    rows = [(test.get("reading") or {}, None)] + [(c, "dim") for c in test.get("controls") or []]
    for i, (r, style) in enumerate(rows):
        if i == 1:
            t.add_row(Text("controls", style="italic"), style="dim")
        t.add_row(f"u = {r.get('node', DASH)}", pct(r.get("fve")), pct(r.get("node_share")),
                  pct(r.get("faithfulness")), pct(r.get("faithfulness_test")), style=style)  # fmt: skip
    note = Text("A shift u + 1 is no control for a node: the logit model's phase absorbs it, so "
                "u and u + 1 read the same logits.", style="dim")  # fmt: skip
    verdict = Text(test.get("verdict") or DASH,
                   style="green" if test.get("supported") else "yellow")  # fmt: skip
    body = [t, legend("variance explained", "node share", "faithfulness"), note, Text(""),
            verdict]  # fmt: skip
    return panel(Group(*body), title, width)


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


def evidence_line(match: dict, circuit: dict | None = None) -> Text | None:
    """Which scores about *how* separate the matched program from its near misses, which do
    not, and which were not measured (and why)."""
    said = match.get("evidence") or {}
    if not said or not match.get("controls"):
        return None
    yes = [EVIDENCE[k] for k, v in said.items() if v and k in EVIDENCE]
    no = [EVIDENCE[k] for k, v in said.items() if v is False and k in EVIDENCE]
    unmeasured = [EVIDENCE[k] for k, v in said.items() if v is None and k in EVIDENCE]
    parts = []
    if yes:
        parts.append(f"{' and '.join(yes)} separate{'s' if len(yes) == 1 else ''} "
                     f"{match.get('program')} from its near misses: evidence of how")  # fmt: skip
    if no:
        parts.append(f"{' and '.join(no)} do{'es' if len(no) == 1 else ''} not: "
                     "not evidence here")  # fmt: skip
    if unmeasured:
        why = ("no circuit was found to locate a node in" if circuit and not circuit.get("found")
               else "no node of both inputs could be tested")  # fmt: skip
        parts.append(f"{' and '.join(unmeasured)}: not measured ({why})")
    return Text("; ".join(parts) + ".", style="green" if not no and not unmeasured else "yellow")


def match_table(
    programs: list[dict], match: dict, width: int = WIDTH, title: str = "match", noise=None,
    circuit: dict | None = None,
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
    line = evidence_line(match, circuit)
    if line is not None:
        body.append(line)
    if noise:
        body.append(Text(
            f"noisy training labels: {fmt(noise.get('noisy'), ',')}; the network answers "
            f"{fmt(noise.get('fit_noisy'), ',')} of them as given (it fit the noise) and "
            f"{fmt(noise.get('fit_clean'), ',')} as the true function would", style="dim",
        ))  # fmt: skip
    return panel(Group(*body), title, width)


def checkpoints(rows: list[dict], phases: dict) -> list[tuple[dict, str]]:
    """The rows (one per checkpoint) the phases table shows, with their column labels
    (:func:`compare.progress.phase_columns`)."""
    by_step = {r.get("step", 0): r for r in rows}
    return [(by_step[s], label) for s, label in phase_columns(list(by_step), phases)]


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


def llc_cell(point: dict | None) -> str:
    """λ̂ at a checkpoint: the number; in parentheses when not trusted; "diverged" when a
    chain diverged (there is no number); "–" where it was not estimated."""
    if point is None:
        return DASH
    value = point.get("llc")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "diverged"
    return f"{value:,.1f}" if point.get("trusted", not point.get("warnings")) else f"({value:,.1f})"


def llc_settings_line(config: dict, points: list[dict]) -> str:
    """How λ̂ was estimated, in one line."""
    nbeta = config.get("nbeta")
    temperature = (f"nβ = {nbeta:g}" if nbeta is not None else
                   f"nβ = n / log n = {points[0].get('nbeta', math.nan):,.0f}" if points
                   else "nβ = n / log n")  # fmt: skip
    return (f"λ̂ by SGLD at {len(points)} checkpoints: {config.get('chains')} chains × "
            f"{config.get('draws')} draws after {config.get('burnin')} steps, step ε "
            f"{config.get('step', math.nan):g}, localization γ {config.get('localization', math.nan):g}, "
            f"{temperature}")  # fmt: skip


def progress_panel(progress: list[dict], phases: dict, width: int = WIDTH,
                   title: str = "progress over training", llc: list[dict] | None = None,
                   llc_config: dict | None = None) -> Panel:  # fmt: skip
    """The measures (rows) at the start, at each phase's end and at the end (columns), with
    λ̂ where it was estimated, then the phases themselves."""
    body: list = []
    llc = llc or []
    rows = {p.get("step", 0): dict(p) for p in progress}
    for point in llc:  # λ̂'s checkpoints include the table's; a run without progress has λ̂ alone
        rows.setdefault(point.get("step", 0), {"step": point.get("step", 0)})["llc"] = point
    chosen = checkpoints(sorted(rows.values(), key=lambda r: r["step"]), phases)
    if chosen:
        t = numbers_table(*(label for _, label in chosen), text="", no_wrap=True)
        shown = ["loss", "key share", "‖θ‖", "bits"] if progress else []
        for label, key, spec in MEASURES:
            if key == "rung" and not any(p.get(key) for p, _ in chosen):
                continue  # a report from before the description-length curve
            if key != "step" and not progress:
                continue  # only λ̂ was measured (no circuit to hold the measures to)
            t.add_row(label, *(fmt(p.get(key), spec) for p, _ in chosen))
        if llc:
            t.add_row("λ̂", *(llc_cell(p.get("llc")) for p, _ in chosen))
            shown.append("λ̂")
        body += [t, legend(*shown), Text("")]
        if llc:
            body.append(Text(llc_settings_line(llc_config or {}, llc), style="dim"))
            for p, _ in chosen:
                for warning in (p.get("llc") or {}).get("warnings") or []:
                    body.append(Text(f"λ̂ at step {p['step']}: {warning}", style="yellow"))
            body.append(Text(""))
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
    if document.get("node_test"):
        console.print(node_test_panel(document["node_test"], width))
    console.print(match_table(candidates(document), document.get("match") or {}, width,
                              noise=document.get("noise"), circuit=document.get("circuit")))  # fmt: skip
    console.print(progress_panel(document.get("progress") or [], document.get("phases") or {},
                                 width, "progress over training (losses in nats)",
                                 document.get("llc"), document.get("llc_config")))  # fmt: skip
