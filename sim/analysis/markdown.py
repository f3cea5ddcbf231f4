"""Markdown documents from jinja2 templates, with tables made by ``pandas.DataFrame.to_markdown`` (tabulate).

A module that writes a document keeps its template in its package's ``templates`` folder and renders it with
:func:`render` from a context of plain values and :class:`Table` objects; templates turn a table into markdown
with the ``markdown`` filter (``{{ table | markdown }}``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jinja2
import pandas as pd

ALIGNMENTS = {"l": "left", "r": "right", "c": "center"}


@dataclass(frozen=True)
class Table:
    """A table of text cells.

    Attributes:
        header: the column headings.
        rows: the cells, one list per row, already formatted as text.
        align: one letter per column, ``l``, ``r`` or ``c``; by default the first column left, the others right.
    """

    header: list[str]
    rows: list[list[str]]
    align: str | None = None

    def alignment(self) -> str:
        """The alignment letters, one per column."""
        return self.align or "l" + "r" * (len(self.header) - 1)


def _cell(value: Any) -> str:
    """A cell's text, with the pipes that would end the cell escaped."""
    return str(value).replace("|", "\\|")


def markdown_table(table: Table) -> str:
    """A table as a markdown pipe table; cells are shown as given (no number parsing or reformatting)."""
    frame = pd.DataFrame([[_cell(c) for c in row] for row in table.rows], columns=range(len(table.header)))
    return frame.to_markdown(
        index=False,
        headers=[_cell(h) for h in table.header],
        colalign=[ALIGNMENTS[a] for a in table.alignment()],
        disable_numparse=True,
    )


@functools.cache
def _environment(package: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # markdown, not HTML
    )
    environment.filters["markdown"] = markdown_table
    return environment


def render(package: str, template: str, context: dict[str, Any]) -> str:
    """Render ``package``'s ``templates/<template>`` with ``context``.

    Args:
        package: the package holding the ``templates`` folder, e.g. ``"sim.analysis"``.
        template: the template's file name, e.g. ``"report.md.j2"``.
        context: the values the template shows.

    Returns:
        The rendered text.
    """
    return _environment(package).get_template(template).render(context)
