"""``synthcmp explain [TERM]``: what a column or measure of the report means.

Reads the one glossary (:mod:`synthcmp.render.glossary`) that the report's legends use.
"""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from synthcmp.render.glossary import GLOSSARY, SECTIONS, close_matches, lookup
from synthcmp.ui import UserError, console


@click.command()
@click.argument("term", nargs=-1, metavar="[TERM]")
def explain(term: tuple[str, ...]) -> None:
    """Explain a column or measure of the report, with its formula; with no TERM, list them all.

    \b
    Examples:
      synthcmp explain                  every term, one line each
      synthcmp explain restricted loss  the formula and how to read it
      synthcmp explain iia              IIA (names are matched loosely)
    """
    if not term:
        for heading, table in glossary_tables():
            console.print(Text(heading, style="bold"))
            console.print(table)
        console.print(Text("synthcmp explain TERM for the full explanation", style="dim"))
        return
    word = " ".join(term)
    found = lookup(word)
    if found is None:
        near = close_matches(word)
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise UserError(f"no term {word!r} in the glossary{hint} (synthcmp explain lists them)")
    console.print(Text(found.name, style="bold"), Text(f"— {found.line()}"))
    console.print()
    console.print(found.text())
    console.print()
    console.print(Text(f"in the report: {SECTIONS[found.section]}", style="dim"))
    if found.aliases:
        console.print(Text("also: " + ", ".join(found.aliases), style="dim"))


def glossary_tables() -> list[tuple[str, Table]]:
    """Every term with its one-line meaning: one table per report section, aligned alike."""
    width = max(len(t.name) for t in GLOSSARY.values())
    tables: dict[str, Table] = {}
    for term in GLOSSARY.values():
        if term.section not in tables:
            table = Table(box=None, show_header=False, pad_edge=False)
            table.add_column("term", style="cyan", no_wrap=True, width=width)
            table.add_column("meaning", overflow="fold")
            tables[term.section] = table
        tables[term.section].add_row(term.name, term.line())
    return [(SECTIONS[section], table) for section, table in tables.items()]
