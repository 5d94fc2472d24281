"""MkDocs hook: the docstrings' Sphinx roles (``:class:`~deepprior.io.ImageData` ``) shown as plain code.

The docstrings are written for ``help()`` and Sphinx-style readers; mkdocstrings leaves their roles as text.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:mod|class|func|meth|attr|data|exc|obj):\s*<code>(~?)([\w.]+)</code>")


def _short(match: re.Match[str]) -> str:
    name = match.group(2)
    return f"<code>{name.rsplit('.', 1)[-1] if match.group(1) else name}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub(_short, html)
