"""Which files a batch restores and where each result goes, decided before any fit.

Inputs are files and folders (``recursive``: subfolders too). Each output is
``OUT/<path relative to the input folder>/<stem><suffix>.<ext>``; a single input file may instead name its
output file. Two inputs that would share an output are an error naming both, never a silent overwrite.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io.formats import WRITABLE_SUFFIXES

#: The suffixes a folder is searched for (other files in it are left alone): the formats deepprior knows.
IMAGE_SUFFIXES = frozenset(WRITABLE_SUFFIXES)

#: ``--format`` names and their suffix (``same``: the input's own).
FORMATS: dict[str, str | None] = {"png": ".png", "tiff": ".tif", "jpg": ".jpg", "webp": ".webp", "bmp": ".bmp",
                                  "same": None}


@dataclass(frozen=True)
class Source:
    """An input file and its path relative to the folder it was found in (its name when given as a file)."""

    path: Path
    rel: Path


@dataclass(frozen=True)
class Job:
    """One file of a batch: where it comes from and where its result and side files go."""

    index: int
    source: Path
    rel: Path
    output: Path

    @property
    def stem(self) -> str:
        return self.output.stem

    def mirrored(self, root: Path, name: str | None = None) -> Path:
        """``root/<relative folder>/<name or output stem>``: snapshots, figures and work folders of a batch."""
        return root / self.rel.parent / (name if name is not None else self.stem)


def _walk(folder: Path, recursive: bool, problems: list[str]) -> Iterable[Path]:
    """Image files in ``folder`` (sorted; hidden files and folders skipped; symlinked folders not followed)."""

    def note(exc: OSError) -> None:
        problems.append(f"cannot read folder {exc.filename}: {exc.strerror}")

    for top, dirs, names in os.walk(folder, onerror=note, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in sorted(names):
            p = Path(top) / name
            if not name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
                yield p


def find_inputs(inputs: Sequence[Path], *, recursive: bool = False) -> tuple[list[Source], bool, list[str]]:
    """The files to restore, whether this is a batch (several inputs or a folder), and folder problems.

    Raises:
        InputError: an input that does not exist, or a folder with no image file in it.

    """
    sources: list[Source] = []
    problems: list[str] = []
    batch = len(inputs) > 1
    for p in inputs:
        if p.is_dir():
            batch = True
            found = [Source(f, f.relative_to(p)) for f in _walk(p, recursive, problems)]
            if not found:
                deeper = "" if recursive else " (add --recursive for its subfolders)"
                raise InputError(f"folder {p} holds no image files{deeper}")
            sources.extend(found)
        elif not p.exists():
            raise InputError(f"no such file: {p}")
        else:
            sources.append(Source(p, Path(p.name)))
    return sources, batch, problems


def output_suffix(source: Path, fmt: str) -> str:
    """The output's suffix for ``--format`` (``same``: the input's, lower case)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[fmt] or source.suffix.lower()


def plan(sources: Sequence[Source], output: Path, *, batch: bool, suffix: str = "", fmt: str = "png",
         overwrite: bool = False) -> list[Job]:
    """Each source's output path; the batch's output folder (and its mirrored subfolders) created if missing.

    Raises:
        InputError: ``-o`` is a file where a folder is needed, its parent folder is missing (single input),
            two inputs map to one output, or an output is its own input without ``overwrite``.

    """
    if batch:
        if output.exists() and not output.is_dir():
            raise InputError(f"with several inputs, -o must be a folder; {output} is a file")
        outs = [output / s.rel.parent / f"{s.rel.stem}{suffix}{output_suffix(s.path, fmt)}" for s in sources]
    elif output.is_dir():
        s = sources[0]
        outs = [output / f"{s.rel.stem}{suffix}{output_suffix(s.path, fmt)}"]
    else:
        if str(output.parent) and not output.parent.is_dir():
            raise InputError(f"output folder {output.parent} does not exist")
        outs = [output]
    seen: dict[Path, Path] = {}
    for s, out in zip(sources, outs, strict=True):
        key = out.resolve()
        if key in seen:
            raise InputError(f"{seen[key]} and {s.path} would both be written to {out}; give them other names, "
                             "or keep the format (--format same) or add a --suffix")
        seen[key] = s.path
        if key == s.path.resolve() and not overwrite:
            raise InputError(f"output {out} is the input file; pass --overwrite to replace it")
    if batch:
        for folder in sorted({out.parent for out in outs}):
            folder.mkdir(parents=True, exist_ok=True)
    return [Job(i, s.path, s.rel, out) for i, (s, out) in enumerate(zip(sources, outs, strict=True))]


__all__ = ["FORMATS", "IMAGE_SUFFIXES", "Job", "Source", "find_inputs", "output_suffix", "plan"]
