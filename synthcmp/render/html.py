"""The HTML report: one self-contained page, the terminal report recorded as HTML, then every
figure inlined (base64) with a caption that says what it shows and how to read it.

The page carries ``<meta name="generator" content="synthcmp">`` (:data:`GENERATOR`): that is
how ``--html`` knows a file is a report synthcmp wrote and may be overwritten.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

from rich.console import Console
from rich.terminal_theme import DEFAULT_TERMINAL_THEME

from synthcmp.render.compare import WIDTH, get
from synthcmp.render.report import render_report
from taskcore.errors import TaskError
from taskcore.events import BasisKind
from taskcore.files import atomic_write_text, check_writable_name
from taskcore.table import Task

GENERATOR = '<meta name="generator" content="synthcmp">'
# what the HTML writer puts in a page's head (and put there before it had a generator tag):
# a file that holds one is a report synthcmp wrote, which --html may overwrite
HTML_MARKERS = (GENERATOR, "<title>synthcmp · ")
PAGE_START = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'  # every page's first bytes
PRE = '<pre class="terminal">{code}</pre>'
STYLE = """
body { max-width: 1100px; margin: 2em auto; padding: 0 1em; font-family: system-ui, sans-serif;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; }
pre.terminal { font-family: Menlo, 'DejaVu Sans Mono', Consolas, monospace; font-size: 13px;
               line-height: 1.15; background: #fff; padding: 1em; overflow-x: auto;
               border: 1px solid #ddd; border-radius: 4px; }
figure { margin: 2em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 95%; max-width: 75ch; margin-top: .5em; }
figcaption b { color: #222; }
"""
FIGURE_TITLES = {
    "training": "Training curves",
    "spectrum": "The embedding's Fourier spectrum",
    "circles": "The embedding on circles",
    "logit_fit": "The logit model's fit",
    "progress": "Progress measures",
    "description_length": "Description length over training",
    "llc_traces": "The SGLD chains behind λ̂",
    "predictions": "The network against the matched program",
}


def _keys(circuit: dict) -> str:
    """The key irreps as the report names them: their names in a group, k = … over Z_m."""
    if circuit.get("basis") == BasisKind.IRREPS:
        return ", ".join(ir.get("name", "?") for ir in circuit.get("key_irreps") or [])
    keys = circuit.get("key_frequencies") or []
    return ", ".join(str(k) for k in keys)


def caption(name: str, report: dict) -> str:
    """What figure ``name`` shows and how to read it, with this run's numbers."""
    comp = report.get("compare") or {}
    circuit = comp.get("circuit") or {}
    keys = _keys(circuit)
    grok = get(report.get("train"), "grok_step")
    if name == "training":
        return (
            "Train (blue) and test (red) accuracy, left, and cross-entropy loss, right, over "
            "training steps on a log scale; dashed lines mark where memorization, circuit "
            "formation and cleanup end. Grokking is test accuracy catching up with train "
            "accuracy long after train accuracy reached 100%"
            + (f" (here at step {grok})." if grok is not None else "; this run did not grok.")
        )
    if name == "spectrum":
        if circuit.get("basis") == BasisKind.IRREPS:
            group = circuit.get("group") or "the group"
            found = (f"The key irreps (red: {keys}) are those the circuit uses." if keys
                     else "No irrep is key here (all bars grey).")  # fmt: skip
            return (
                "How the token embedding's squared norm splits over the irreducible "
                f"representations of {group} (each irrep's isotypic subspace of functions on "
                f"the group). {found} A network that groks concentrates its embedding on a few "
                "irreps; one that memorizes spreads it over all."
            )
        found = (
            f"The key frequencies (red: k = {keys}) are those the circuit uses."
            if keys
            else "No frequency is key here (all bars grey)."
        )
        e = circuit.get("embedding_node") or "x"
        over = "the Fourier frequencies" if e == "x" else f"the Fourier frequencies of e(x) = {e}"
        return (
            f"How the token embedding's squared norm splits over {over} "
            f"k = 1 … ⌊m/2⌋ (cos and sin together). {found} A network that groks concentrates "
            "its embedding on a few frequencies; one that memorizes spreads it over all."
        )
    if name == "circles":
        if not keys:
            return (
                "No key frequency was found, so there is no circle to draw: no frequency "
                "carries enough of the network's logits to be part of a Fourier circuit."
            )
        e = circuit.get("embedding_node") or "x"
        return (
            f"Each residue x at its embedding's coordinates on the two directions that carry "
            f"cos(ω_k e) and sin(ω_k e) for e = {e}, one panel per key frequency (k = {keys}); "
            "the colour is the angle ω_k·e the Fourier algorithm gives it, and the label the "
            f"value of e{' (x and −x share a point)' if e == 'x**2' else ''}. A ring whose "
            "colours run in rainbow order means the network placed every value where the "
            "algorithm puts it; a shapeless cloud means it does not use that frequency."
        )
    if name == "progress":
        what = BasisKind.IRREPS if circuit.get("basis") == BasisKind.IRREPS else "frequencies"
        return (
            "The progress measures at each checkpoint, over log-scaled steps. Left: train and "
            f"test loss beside the restricted loss (only the key {what}' directions of the "
            "logits kept) and the excluded loss (those directions removed, on the training "
            f"pairs). Right: the key {what}' share of the embedding, and the weight norm "
            "scaled to its largest value. In circuit formation the restricted loss falls and "
            "the key share grows before the test loss moves."
        )
    if name == "logit_fit":
        return (
            "Every point is one input and class (x, y, c) of a random sample: across, the "
            "circuit's logit model Σ α χ(u·c⁻¹) (for sums Σ α_k 2cos(ω_k(u − c)); for a group "
            "its irreducible characters); up, the network's logit with each class's mean "
            "removed; colour, how many points fall there. Points on the dashed diagonal are "
            f"logits the model predicts; it explains {circuit.get('fve', 0):.1%} of their "
            "variance. A network that memorized gives a shapeless cloud."
        )
    if name == "description_length":
        return (
            "At each checkpoint, the bits needed to code the training labels with the circuit "
            "extracted from that checkpoint plus its exceptions, or as the literal table, "
            "whichever is shorter (green: the circuit was; red: the table was), on log-log "
            "axes. The dashed line is the shortest program's bits, the dotted one the table's. "
            "A network that groks falls from the table's line to near the program's: the "
            "memorizing program replaced by a short one. One that only memorizes stays on "
            "the table's line."
            + (" Purple diamonds, on the right axis: the local learning coefficient λ̂ at "
               "some of the checkpoints — the network's complexity read from its weights "
               "alone (hollow: not trusted, the report says why). If the two measures agree, "
               "λ̂ falls where the bits do and stays high on random labels."
               if comp.get("llc") else "")
        )
    if name == "llc_traces":
        return (
            "Each SGLD chain behind λ̂, at each checkpoint where it was estimated (colour: the "
            "checkpoint's step): nβ (L(w) − L(w*)) over the sampler's steps, starting at 0 at "
            "the checkpoint's weights w*. λ̂ is a trace's mean after the shaded burn-in, "
            "averaged over the chains. Traces that level off sampled the localized posterior; "
            "one still climbing at the end, or falling below 0, did not — the report then "
            "marks that λ̂ as not trusted."
        )
    if name == "predictions":
        program = get(comp.get("match"), "program") or "the matched program"
        return (
            "Every input (x, y) as a cell, coloured by the output symbol: left, the network's "
            f"answer (argmax); middle, the table of {program}; right, in red, the inputs where "
            "they differ (grey cells are outside the task's domain). Identical left and middle "
            "panels and an empty right panel mean the network computes the program everywhere."
        )
    return name


def figures(report: dict) -> list[str]:
    """Each plot the report lists and the run folder holds, as a <figure> with its caption."""
    run_dir = Path(report.get("run_dir") or ".")
    out = []
    for i, (name, file) in enumerate((report.get("plots") or {}).items(), 1):
        path = run_dir / file
        if not path.is_file():
            continue
        title = FIGURE_TITLES.get(name, name)
        out.append(figure(i, name, path, caption(name, report), title))
    return out


def figure(i: int, name: str, png: Path, text: str, title: str = "") -> str:
    """One PNG inlined (base64) as a numbered <figure> with its caption."""
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    head = f"Figure {i}. {html.escape(title)}." if title else f"Figure {i}."
    return (
        f'<figure id="{html.escape(name)}"><img alt="{html.escape(title or name)}" '
        f'src="data:image/png;base64,{data}">'
        f"<figcaption><b>{head}</b> {html.escape(text)}</figcaption></figure>"
    )


def recorded_html(render) -> str:
    """What ``render(console)`` prints, recorded at the report's width as HTML."""
    console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system="truecolor")
    render(console)
    return console.export_html(inline_styles=True, code_format=PRE, theme=DEFAULT_TERMINAL_THEME)


def write_page(path: Path, title: str, body: str, shown: list[str], note: str = "") -> Path:
    """The self-contained page: a title, an optional note, the recorded report, the figures."""
    title = html.escape(title)
    note = f"<p>{html.escape(note)}</p>\n" if note else ""
    page = f"""{PAGE_START}{GENERATOR}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head><body><h1>{title}</h1>
{note}{body}
{"<h2>Figures</h2>" if shown else ""}
{"".join(shown)}
</body></html>
"""
    atomic_write_text(path, page)
    return path


def write_html(report: dict, task: Task, metrics: list[dict], path: Path, top: int = 5) -> Path:
    """One self-contained page: the terminal report as HTML, then every plot inlined (base64)."""
    body = recorded_html(lambda console: render_report(report, console, task, metrics, top))
    return write_page(path, f"synthcmp · {task.name}: {task.formula}", body, figures(report))


def is_our_report(path: Path) -> bool:
    """Was the file at ``path`` written by synthcmp's HTML writer (so it may be overwritten)?

    Its page starts as the writer starts every page, and its ``<head>`` holds the generator
    tag (or, from before there was one, a title that starts "synthcmp · "): a page of the
    user's that merely quotes the tag in its text is not ours."""
    try:
        with open(path, "rb") as f:
            start = f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    head = start.partition("</head>")[0]
    return start.startswith(PAGE_START) and any(marker in head for marker in HTML_MARKERS)


def check_html_target(path: Path, force: bool) -> None:
    """Before a run starts: can the HTML report be written to ``path`` without harm?

    Its folder must exist; an existing file is overwritten only if it is a report synthcmp
    wrote, or with ``force`` (never a link or a non-file, whatever ``force`` says)."""
    folder = path.parent
    if not folder.is_dir():
        raise TaskError(f"cannot write the HTML report {path}: folder {folder} does not exist")
    check_writable_name(path, "--html")
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_file():
            raise TaskError(
                f"--html {path} exists and is not a regular file; refusing to replace it"
            )
        if not force and not is_our_report(path):
            raise TaskError(
                f"--html {path} exists and is not a report synthcmp wrote; "
                "use --force to overwrite it"
            )
    if not os.access(folder, os.W_OK):
        raise TaskError(f"cannot write the HTML report {path}: folder {folder} is not writable")
