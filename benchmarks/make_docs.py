"""Assemble docs/benchmarks.md from the prose in docs/fragments/ and the committed results in benchmarks/results/.

    .venv/bin/python benchmarks/make_docs.py          # rewrite docs/benchmarks.md
    .venv/bin/python benchmarks/make_docs.py --check  # exit 1, with a diff, if it differs from the regenerated text

The document is the fragments (``docs/fragments/NN-slug.md``, one per section, in name order) joined by one
blank line. The prose lives in the fragments; every figure, table and included result that a committed results
file holds comes from a placeholder, filled from ``benchmarks/results/``:

``{{ FILE.md }}``, ``{{ FILE.txt }}``
    that results file as the benchmark wrote it (outer blank lines removed);
``{{ FILE.json#PATH }}``
    a value in a JSON results file: keys and list indices joined by dots, ``key=value`` picking the first
    list element whose ``key`` reads ``value`` (``{{ speed_512_w48.json#rows.label=fast.ratio_to_reference }}``);
``{{ NAME }}``
    a table or a figure computed from the results by a small function, named in the ``TABLES`` and ``VALUES``
    of ``docgen.speed``, ``docgen.stopping``, ``docgen.full_size``, ``docgen.studies``, ``docgen.tiles`` and
    ``docgen.speed3``, ``docgen.levers`` and ``docgen.whole``.

Any of them may end with a Python format spec after a colon: ``{{ pixels_cap_loss:.2f }}``. A placeholder
that names nothing known, or a results file that is missing, stops the build with a ``DocsError`` naming the
fragment, its line and the placeholder.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # docgen and common, also when loaded from elsewhere (tests)

from docgen import full_size, levers, speed, speed3, stopping, studies, tiles, whole  # noqa: E402
from docgen.results import ROOT, field, text  # noqa: E402

FRAGMENTS = ROOT / "docs" / "fragments"
OUTPUT = ROOT / "docs" / "benchmarks.md"
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")


class DocsError(Exception):
    """A fragment that cannot be filled: an unknown placeholder, a missing results file, a bad format."""


#: The modules that name tables and values for the placeholders, one or more sections each.
SOURCES = (speed, stopping, full_size, studies, tiles, speed3, levers, whole)


def named() -> dict[str, Callable[[], Any]]:
    """Every named placeholder: the tables and the values of ``SOURCES`` (a name defined twice is a mistake)."""
    names: dict[str, Callable[[], Any]] = {}
    for module in SOURCES:
        for name, make in {**module.TABLES, **module.VALUES}.items():
            if name in names or name in module.TABLES and name in module.VALUES:
                raise DocsError(f"placeholder name {name!r} defined twice (again in {module.__name__})")
            names[name] = make
    return names


def known(key: str, names: Mapping[str, Callable[[], Any]]) -> bool:
    """Whether a placeholder key (without its format spec) names something: a value, a table or a results file."""
    if key in names:
        return True
    name, hash_, _ = key.partition("#")
    return name.endswith(".json") if hash_ else name.endswith((".md", ".txt", ".json"))


def resolve(key: str, names: Mapping[str, Callable[[], Any]]) -> Any:
    """The value of one known placeholder key."""
    if key in names:
        return names[key]()
    name, hash_, path = key.partition("#")
    return field(name, path) if hash_ else text(name)


def expand(source: str, where: str, names: Mapping[str, Callable[[], Any]] | None = None) -> str:
    """Fill every placeholder of one fragment; ``where`` names the fragment in errors."""
    names = named() if names is None else names

    def fill(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        key, _, spec = (s.strip() for s in inner.partition(":"))
        at = f"{where}:{source.count(chr(10), 0, m.start()) + 1}: {{{{{inner}}}}}"
        if not known(key, names):
            raise DocsError(f"{at}: unknown placeholder {key!r}")
        try:
            return format(resolve(key, names), spec)
        except FileNotFoundError as e:
            raise DocsError(f"{at}: results file missing: {e.filename}") from e
        except Exception as e:
            raise DocsError(f"{at}: {type(e).__name__}: {e}") from e

    out = PLACEHOLDER.sub(fill, source)
    stray = PLACEHOLDER.sub("", source)
    if "{{" in stray or "}}" in stray:
        raise DocsError(f"{where}: an unmatched '{{{{' or '}}}}' in the fragment")
    return out


def fragments(folder: Path = FRAGMENTS) -> list[Path]:
    """The fragments of the document, in order: ``NN-slug.md``."""
    found = sorted(folder.glob("[0-9][0-9]-*.md"))
    if not found:
        raise DocsError(f"no fragments in {folder}")
    return found


def render(folder: Path = FRAGMENTS) -> str:
    """The whole document, regenerated from the fragments and the committed results."""
    names = named()
    parts = [expand(p.read_text(encoding="utf-8"), _shown(p), names).rstrip("\n") for p in fragments(folder)]
    return "\n\n".join(parts).rstrip() + "\n"


def _shown(path: Path) -> str:
    """A path as errors show it: relative to the repository where it lies in it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def diff(old: str, new: str, name: str = "docs/benchmarks.md") -> str:
    """A unified diff from the committed document to the regenerated one."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"{name} (committed)", f"{name} (regenerated)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into memory; exit 1 with a unified diff if docs/benchmarks.md differs")
    args = parser.parse_args(argv)
    try:
        new = render()
    except DocsError as e:
        print(f"make_docs: {e}", file=sys.stderr)
        return 2
    if args.check:
        old = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if old != new:
            sys.stdout.write(diff(old, new))
            print("make_docs: docs/benchmarks.md differs from the regenerated text (above); run "
                  "benchmarks/make_docs.py to rewrite it", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
