"""The Markdown table writer of the docs' own tables."""

from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], body: Sequence[Sequence[object]]) -> str:
    """A Markdown table: a header row, its rule, one row per sequence of cells (an empty cell reads ``| |``)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["|" + "".join(f" {c} |" if str(c) else " |" for c in row) for row in body]
    return "\n".join(lines)
