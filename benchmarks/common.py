"""Helpers shared by the benchmark scripts: the data folder, crops, the metadata a results file carries, the
Markdown table writer, and the device scripts' pool of child processes.

A product script (``python benchmarks/NAME.py``) imports this as ``common``: Python puts the script's folder
first on ``sys.path``. A study (``python benchmarks/studies/NAME.py``) does too, after ``import _path``
(``benchmarks/studies/_path.py`` puts ``benchmarks/`` on ``sys.path``). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: The repository's root.
ROOT = Path(__file__).resolve().parents[1]
#: ``../shared/data`` beside the repository.
DATA = ROOT.parent / "shared" / "data"


def centre_crop(a: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` centre of an image."""
    h, w = a.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return a[top : top + size, left : left + size]


def markdown_table(header: Sequence[object], body: Sequence[Sequence[object]]) -> str:
    """A Markdown table: a header row, its rule, one row per sequence of cells (an empty cell reads ``| |``).

    Example:
        >>> print(markdown_table(["a", "b"], [[1, ""]]))
        | a | b |
        |---|---|
        | 1 | |
    """
    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["|" + "".join(f" {c} |" if str(c) else " |" for c in row) for row in body]
    return "\n".join(lines)


def script_name(file: str) -> str:
    """A script's path as results record it: relative to the repository (``benchmarks/full_size.py``)."""
    path = Path(file).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def given(args: argparse.Namespace) -> dict[str, Any]:
    """A script's parsed arguments as JSON can hold them (paths as text)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def results_meta(file: str, args: argparse.Namespace | None = None, table: str = "denoise") -> dict[str, Any]:
    """The ``meta`` of a results file: the commit, versions, machine, threads and date
    (:func:`deepprior.bench.harness.metadata`, with the settings of the harness's ``table``), the script that
    wrote it (``file``: the script's ``__file__``) and, if given, its arguments."""
    from deepprior.bench.harness import BenchConfig, metadata

    meta = {**metadata(BenchConfig(table=table)), "command": script_name(file)}
    return meta if args is None else {**meta, "args": given(args)}


def paper_s_per_iter(noisy: np.ndarray, threads: int | None) -> float:
    """Seconds per iteration of the paper's denoising configuration in float32 on this image: 10 iterations
    timed after 3 of warm-up (the reference time of issue #6's ratios)."""
    from deepprior import api

    common: dict[str, Any] = {"sigma": 25, "preset": "paper", "precision": "fp32", "stop": "none", "threads": threads,
                              "tile": 0}
    short = api.denoise(noisy, num_iter=3, **common).fit.seconds
    long = api.denoise(noisy, num_iter=13, **common).fit.seconds
    return (long - short) / 10


def save_curve_run(runs: dict[str, Any], key: str, label: str, result: Any, extra: dict[str, Any], file: str,
                   args: argparse.Namespace, out: Path) -> None:
    """Record one `--stop none` fit of a curve study (its final and best PSNR, seconds, history) under
    ``runs[key]``, print a line and rewrite the study's JSON atomically with the metadata and arguments
    (``file``: the study's ``__file__``)."""
    from deepprior import io

    best = max(result.fit.history, key=lambda h: h["psnr"])
    runs[key] = {**extra, "final_psnr": result.psnr, "seconds": result.fit.seconds,
                 "best": {"iteration": best["iteration"], "psnr": best["psnr"]}, "history": result.fit.history}
    print(f"{label}: final {result.psnr:.2f} dB, best {best['psnr']:.2f} at {best['iteration']}, "
          f"{result.fit.seconds:.0f} s", flush=True)
    doc = {"meta": results_meta(file, args), "runs": runs}
    io.write_bytes_atomic(out, json.dumps(doc, indent=1).encode())


def reference_crop(data: Path, image: str = "F16") -> tuple[np.ndarray, np.ndarray]:
    """Issue #6's reference crop: x and y from 128 to 384 of the paper's sigma-25 noisy image and its
    ground truth, as (noisy, gt)."""
    from deepprior import io

    root = data / "dip-paper/denoising/sigma25"
    noisy, gt = (io.load_image(root / f"{image}_{kind}.png").pixels[128:384, 128:384] for kind in ("noisy", "GT"))
    return noisy, gt


def paper_tiles(data: Path, images: Sequence[str], tiles: Sequence[int], tile: int = 128,
                overlap: int = 16) -> Iterator[tuple[str, int, list[int], np.ndarray, np.ndarray]]:
    """Single tiles of the paper's sigma-25 images, cut as a tiled run cuts them (``tile_grid``: the core plus
    the overlap on each side): ``(image, index, [top, left, bottom, right], noisy cut, ground-truth cut)``."""
    from deepprior import io
    from deepprior.tiling import tile_grid

    root = data / "dip-paper/denoising/sigma25"
    for name in images:
        noisy = io.load_image(root / f"{name}_noisy.png").pixels
        gt = io.load_image(root / f"{name}_GT.png").pixels
        grid = tile_grid(noisy.shape[0], noisy.shape[1], tile, overlap)
        for index in tiles:
            t = grid[index]
            cut = (slice(t.top, t.bottom), slice(t.left, t.right))
            yield name, index, [t.top, t.left, t.bottom, t.right], noisy[cut], gt[cut]


def mcmaster_noisy(clean: np.ndarray, name: str, sigma: float = 25) -> np.ndarray:
    """A McMaster image with Gaussian noise of ``sigma`` (0-255) added, rounded and clipped to 8 bits, as a
    noisy file would hold it. The draw is fixed by the image's name (``1`` ... ``18``) and sigma, so every script
    and machine denoises the same noisy image.

    Example:
        >>> clean = np.full((2, 2, 3), 128, dtype=np.uint8)
        >>> bool((mcmaster_noisy(clean, "1") == mcmaster_noisy(clean, "1")).all())
        True
    """
    rng = np.random.default_rng([int(sigma), int(name)])
    noisy = np.round(clean.astype(np.float64) + sigma * rng.standard_normal(clean.shape))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def run_jobs(queue: list[Any], start: Callable[[Any], subprocess.Popen[bytes]],
             finish: Callable[[Any, int], bool], *, jobs: int, deadline: float) -> list[Any]:
    """Run the items of ``queue`` as child processes, at most ``jobs`` at once (the device scripts' pool).

    ``start(item)`` launches one; ``finish(item, returncode)`` takes its end and says whether it succeeded. No item
    starts that would end more than ``deadline`` seconds from now by the median time of those that succeeded, and
    those still running then are killed (what they would have written is lost). Returns the items not started.
    """
    t0 = time.perf_counter()
    running: dict[subprocess.Popen[bytes], tuple[Any, float]] = {}
    took: list[float] = []

    def collect() -> None:
        for proc in [p for p in running if p.poll() is not None]:
            item, started = running.pop(proc)
            if finish(item, proc.returncode):
                took.append(time.perf_counter() - started)

    while queue or running:
        collect()  # before the deadline's check: what ended in the last second is kept
        left = deadline - (time.perf_counter() - t0)
        expected = float(np.median(took)) if took else 0.0
        if left <= 0:  # the hard end: what runs now is lost, what finished is saved
            for proc in running:
                proc.kill()
                proc.wait()
            print(f"deadline: stopped {[item for item, _ in running.values()]}", flush=True)
            break
        while queue and len(running) < jobs and left > 1.1 * expected:
            item = queue.pop(0)
            running[start(item)] = (item, time.perf_counter())
        if not running:
            break
        time.sleep(1)
    return queue
