"""The Markdown table writer of the docs' own tables: the one the benchmark scripts use
(:func:`common.markdown_table`), so a table reads the same whether a script or the docs wrote it."""

from __future__ import annotations

from common import markdown_table as table

__all__ = ["table"]
