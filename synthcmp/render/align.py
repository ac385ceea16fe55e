"""How ``synthcmp align`` looks in the terminal: live progress while the runs train and are
analysed, then the report — the runs, the alignment of every layer beside its baseline, the
program level, the key frequencies and the verdict.

Pure rendering: it reads the trainer's :class:`~neural.train.SeedStep` objects, compare's
progress records and the align document (``AlignResult.to_json()``, as stored in
``align.json``); a key the document lacks shows as "–".
"""

from __future__ import annotations

import math

from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from synthcmp.render.compare import DASH, fmt, numbers_table, panel, panel_width, pct
from synthcmp.render.glossary import legend
from taskcore.events import Grade

STAGES = {"analyse": "analysing runs (circuit, program, Clock/Pizza)",
          "align": "aligning layers (CKA, mutual k-NN, baselines)"}  # fmt: skip
ALGORITHMS = {"clock": "Clock", "pizza": "Pizza", "neither": "neither", "": DASH}


class AlignDisplay:
    """Progress on ``console`` (stderr). On a terminal a bar per stage redraws in place; in a
    log only the lines that say something happened are printed (a run memorized, grokked or
    finished)."""

    def __init__(self, console: Console):
        self.console = console
        self.progress: Progress | None = None
        self.bars: dict[str, int] = {}
        self.model = ""
        self.plans: dict[int, tuple[int, int, int | None]] = {}  # index → seed, steps, after
        self.done: set[int] = set()

    def __enter__(self) -> AlignDisplay:
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress, self.bars = None, {}

    def _bar(self, key: str, description: str, total: int) -> None:
        if not self.console.is_terminal:
            return
        if self.progress is None:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.completed}/{task.total}"),
                                     console=self.console, transient=True)  # fmt: skip
            self.progress.start()
        if key not in self.bars:
            self.bars[key] = self.progress.add_task(description, total=total)

    def _advance(self, key: str, completed: int, description: str | None = None) -> None:
        if self.progress is not None and key in self.bars:
            changes = {"description": description} if description else {}
            self.progress.update(self.bars[key], completed=completed, **changes)

    def stage(self, name: str, text: str) -> None:
        self._stop()
        self.console.rule(f"[bold]{name}[/] · {text}", align="left")

    # -- training ---------------------------------------------------------------------------

    def start_training(self, model: str, configs: list) -> None:
        self.model, self.done = model, set()
        self.plans = {i: (c.seed, c.steps, c.stop_after_grok) for i, c in enumerate(configs)}
        self._bar("train", f"{model} runs finished", len(configs))

    def on_seed_step(self, event) -> None:
        seed, steps, after = self.plans[event.index]
        info = event.info
        who = f"{self.model} s{seed}"
        if "memorized" in info.events:
            self.console.print(f"  {who}: [green]✓ memorized[/] at step {info.step} "
                               f"(test accuracy {pct(info.test_acc)})")  # fmt: skip
        if "grokked" in info.events:
            self.console.print(f"  {who}: [bold green]✓ grokked[/] at step {info.step} "
                               f"(test accuracy {pct(info.test_acc)})")  # fmt: skip
        ended = info.step >= steps or (
            info.grok_step is not None and after is not None and info.step >= info.grok_step + after
        )  # fmt: skip
        if ended and event.index not in self.done:
            self.done.add(event.index)
            if info.grok_step is None:
                self.console.print(f"  {who}: [yellow]not grokked[/] in {info.step} steps "
                                   f"(test accuracy {pct(info.test_acc)})")  # fmt: skip
        self._advance("train", len(self.done),
                      f"{self.model} runs finished · s{seed} step {info.step}")  # fmt: skip

    def end_training(self) -> None:
        self._stop()

    # -- analysis ---------------------------------------------------------------------------

    def on_progress(self, p) -> None:
        if p.stage not in STAGES:
            return
        self._bar(p.stage, STAGES[p.stage], p.total)
        self._advance(p.stage, p.done)


# ---------------------------------------------------------------------------------------
# The report


def _f(v, spec: str = ".2f") -> str:
    return fmt(v, spec)


def _pair(mean, base) -> str:
    """'0.31 / 0.02': a score and its baseline."""
    if mean is None or (isinstance(mean, float) and not math.isfinite(mean)):
        return DASH
    return f"{_f(mean)} / {_f(base)}"


def program_cell(r: dict) -> str:
    """The program a run implements ("partly" when not on every input), or its grade."""
    if not r.get("program"):
        return f"[yellow]{r.get('grade') or 'none'}[/]"
    return r["program"] + (" (partly)" if r.get("grade") == Grade.PARTIAL else "")


def runs_table(doc: dict) -> Table:
    """What each run learned: grok step, test accuracy, program, circuit."""
    t = numbers_table("grok", "test", "variance\nexplained", text="program", lead=("model", "seed"))
    t.add_column(f"key {keys_of(doc)}", overflow="fold")
    for r in doc.get("runs") or []:
        t.add_row(
            r.get("model", DASH), str(r.get("seed", DASH)),
            program_cell(r),
            DASH if r.get("grok_step") is None else str(r["grok_step"]),
            pct(r.get("test_acc")), pct(r.get("fve")),
            ", ".join(r.get("key_names") or map(str, r.get("key_frequencies") or [])) or DASH,
        )  # fmt: skip
    return t


def keys_of(doc: dict) -> str:
    """"irreps" when the runs' circuits are read in a group's irreps, else "frequencies"."""
    return "irreps" if any(r.get("key_names") for r in doc.get("runs") or []) else "frequencies"


def algorithm_table(doc: dict) -> Group:
    """Clock or Pizza: each run's two measures and what they classify it as; why a run was
    not classified is said once under the table, numbered (many runs share one reason), as is
    a note that qualifies a classification (gradient symmetricity fixed by the architecture)."""
    t = numbers_table("distance irrelevance", "gradient symmetricity", lead=("model", "seed"))
    t.add_column("algorithm", overflow="fold")
    notes: list[str] = []
    for r in doc.get("runs") or []:
        algo, why = r.get("algorithm") or "", r.get("algorithm_why") or ""
        mark = ""
        if why:
            if why not in notes:
                notes.append(why)
            mark = f" ({notes.index(why) + 1})"
        shown = (ALGORITHMS.get(algo, algo) if algo else "[dim]not read[/]") + mark
        t.add_row(r.get("model", DASH), str(r.get("seed", DASH)),
                  _f(r.get("distance_irrelevance")), _f(r.get("gradient_symmetricity")), shown)  # fmt: skip
    lines = [Text(f"({i}) {why}", style="dim") for i, why in enumerate(notes, start=1)]
    return Group(t, *lines)


def _blocks(doc: dict) -> list[str]:
    models = doc.get("models") or []
    keys = [f"{m}×{m}" for m in models]
    keys += [f"{a}×{b}" for i, a in enumerate(models) for b in models[i + 1:]]
    return keys


def alignment_table(doc: dict) -> Table:
    """Per layer and metric: the mean over pairs of runs in each block, beside its baseline."""
    blocks = _blocks(doc)
    t = numbers_table(*[b.replace("×", "\n× ") for b in blocks], lead=("layer", "metric"))
    for a in doc.get("alignment") or []:
        cells = []
        for b in blocks:
            mean = (a.get("blocks") or {}).get(b)
            base = (a.get("baseline_blocks") or {}).get(b)
            cells.append(_pair(mean, base) if mean is not None else DASH)
        metric = {"cka": "CKA", "mutual_knn": "mutual k-NN"}.get(a.get("metric"), a.get("metric"))
        t.add_row(a.get("layer", DASH), metric, *cells)
    return t


def node_table(doc: dict) -> Table | Text:
    node = doc.get("node")
    if not node:
        return Text(doc.get("node_why") or "no program node to compare", style="yellow")
    models = doc.get("models") or []
    layers: list[str] = []
    for r in doc.get("runs") or []:
        layers += [name for name in (r.get("node_share") or {}) if name not in layers]
    t = numbers_table(*models, "shuffled", lead=("layer",))
    for name in layers:
        cells, bases = [], []
        for m in models:
            values = [r["node_share"][name] for r in doc["runs"]
                      if r.get("model") == m and (r.get("node_share") or {}).get(name) is not None]  # fmt: skip
            bases += [r["node_share_baseline"][name] for r in doc["runs"] if r.get("model") == m
                      and (r.get("node_share_baseline") or {}).get(name) is not None]  # fmt: skip
            cells.append(f"{min(values):.2f}–{max(values):.2f}" if values else DASH)
        t.add_row(name, *cells, _f(sum(bases) / len(bases)) if bases else DASH)
    return t


def frequencies_text(doc: dict) -> Text:
    a = doc.get("frequencies")
    keys = keys_of(doc)
    if not a:
        return Text(f"fewer than two runs hold a circuit: no sets of key {keys} to compare",
                    style="yellow")  # fmt: skip
    parts = [f"{b.replace('×', ' × ')} {_pair(v, (a.get('baseline_blocks') or {}).get(b))}"
             for b, v in (a.get("blocks") or {}).items()]  # fmt: skip
    return Text(f"Jaccard of the sets of key {keys} (value / random sets of the same sizes): "
                + " · ".join(parts))  # fmt: skip


def render_align(doc: dict, console: Console) -> None:
    width = panel_width(console)
    runs = doc.get("runs") or []
    head = Text.from_markup(
        f"[bold]{doc.get('task', DASH)}[/]  n = {doc.get('n', DASH)} · {len(runs)} runs · "
        f"models: {', '.join(doc.get('models') or []) or DASH}"
    )
    console.print(panel(head, "1 · runs of one task", width))
    console.print(panel(Group(runs_table(doc), legend("variance explained"), Text(),
                              algorithm_table(doc),
                              legend("distance irrelevance", "gradient symmetricity", "Clock",
                                     "Pizza")), "2 · each run", width))  # fmt: skip
    console.print(panel(Group(alignment_table(doc), legend("CKA", "mutual k-NN", "baseline")),
                        "3 · representational similarity (value / shuffled-input baseline)",
                        width))  # fmt: skip
    node = doc.get("node")
    title = ("4 · the program level" + (f": share of variance that is a function of {node}"
                                        if node else ""))  # fmt: skip
    console.print(panel(Group(node_table(doc), legend("node share")), title, width))
    console.print(panel(frequencies_text(doc), f"5 · key {keys_of(doc)}", width))
    verdict = doc.get("verdict") or []
    body = Text()
    for i, line in enumerate(verdict):
        body.append(("" if i == 0 else "\n") + line, style="bold" if i == 0 else "")
    console.print(panel(body, "6 · verdict", width))
