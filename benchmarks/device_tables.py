"""Issue #31's whole-image tables on a lent GPU machine: one ``deepprior bench`` process per image, several at
once, resumable, each table merged into one results file as its images finish.

On this project's 2-core CPU one whole 512x512 grey image of Table 1 costs about 4 s per iteration of `fast`
(about 2 hours to the automatic stop), so the whole-image tables need a GPU or many CPU hours. This script
runs the same harness as ``deepprior bench`` (the user's defaults on that device: preset ``paper`` on CUDA, the
task's automatic stop) with one image per process:

    python benchmarks/device_tables.py --tables pixels sigma50 pg --jobs 8 --deadline 540 --out .devrun

Tables (``TABLES``): ``pixels`` (Table 1, 11 images, ``--stop auto``: holdout), ``pixels-paper`` (the paper's
preset, 11000 iterations at lr 0.001, no stop: give it a call of its own), ``sr4`` and ``sr8`` (Set5 and Set14
from the GT shrunk by antialiased bicubic, ``--stop auto``: the fixed count), ``sigma50`` (the nine at sigma 50,
``--stop auto``) and ``pg`` (PG-DIP against the skip network on three whole images,
``studies/pg_vs_skip.py --crop 0``).

``--data`` (default ``.devdata/`` in the repository, which a device call can carry; ``../shared`` does not
travel) holds what the tables read, as in ``../shared/data``: ``dip-paper/pixels50`` (5 MiB),
``dip-paper/sr/Set5`` and ``Set14`` (39 MiB), ``dip-paper/denoising/sigma50`` (14 MiB) and, for ``pg``,
``dip-paper/denoising/sigma25``. A call carries at most 64 MiB, so copy only the tables' folders that a call
runs; a missing folder stops the script before anything starts.

Each image writes ``OUT/parts/TABLE_IMAGE.json`` (and its log), stamped with the settings it ran with; a rerun
with the same ``--iters``, ``--crop`` and ``--device`` skips the parts that are done. The table's parts are
merged, in the table's order, into ``OUT/TABLE.json`` and ``.md`` at the start, after each image and at the end;
with ``$OUT`` set (a device call returns that folder), the merged files, the parts and the logs of failed images
are copied there. ``--deadline``: no image starts that would end later (by the median time of those done), and
those still running then are stopped (their parts are lost). ``--iters`` and ``--crop`` cap every fit (a smoke
test of this script on the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, run_jobs
from deepprior.tasks.denoise import DENOISE_IMAGES
from deepprior.tasks.inpaint import PIXEL_IMAGES


def sr_images(data: Path, scale: int) -> tuple[str, ...]:
    """Set5's and Set14's images at ``scale``, as the harness finds them (names are unique across the sets)."""
    return tuple(p.name[: -len("_GT.png")] for s in ("Set5", "Set14")
                 for p in sorted((data / "dip-paper" / "sr" / s / f"x{scale}").glob("*_GT.png")))


@dataclass(frozen=True)
class Table:
    """One table: the ``deepprior bench`` arguments (or a study script), its images in the table's order, and the
    folders under the data folder that it reads."""

    args: tuple[str, ...]
    images: Callable[[Path], tuple[str, ...]]  # from the data folder
    folders: tuple[str, ...]
    study: str | None = None  # a script under benchmarks/ run instead of ``deepprior bench``


TABLES = {
    "pixels": Table(("pixels", "--stop", "auto"), lambda data: PIXEL_IMAGES, ("dip-paper/pixels50",)),
    "pixels-paper": Table(("pixels", "--preset", "paper-pixels", "--stop", "none"), lambda data: PIXEL_IMAGES,
                          ("dip-paper/pixels50",)),
    "sr4": Table(("sr", "--scales", "4", "--stop", "auto"), lambda data: sr_images(data, 4),
                 ("dip-paper/sr/Set5/x4", "dip-paper/sr/Set14/x4")),
    "sr8": Table(("sr", "--scales", "8", "--stop", "auto"), lambda data: sr_images(data, 8),
                 ("dip-paper/sr/Set5/x8", "dip-paper/sr/Set14/x8")),
    "sigma50": Table(("denoise", "--sigmas", "50", "--stop", "auto"), lambda data: DENOISE_IMAGES,
                     ("dip-paper/denoising/sigma50",)),
    "pg": Table((), lambda data: ("F16", "kodim03", "peppers"), ("dip-paper/denoising/sigma25",),
                study="studies/pg_vs_skip.py"),
}


def command(name: str, image: str, part: Path, args: argparse.Namespace) -> list[str]:
    """The command that runs one image of one table and writes its part."""
    table = TABLES[name]
    if table.study is not None:
        cmd = [sys.executable, str(ROOT / "benchmarks" / table.study), "--images", image, "--crop", str(args.crop or 0),
               "--device", args.device, "--threads", "1", "--json", str(part), "--data", str(args.data)]
        return cmd + (["--iters", str(args.iters)] if args.iters else [])
    cmd = [sys.executable, "-m", "deepprior.cli", "bench", *table.args, "--images", image, "--device", args.device,
           "--threads", "1", "--data", str(args.data), "--json", str(part)]
    cmd += ["--iters", str(args.iters)] if args.iters else []
    return cmd + (["--crop", str(args.crop)] if args.crop else [])


def _stamp(args: argparse.Namespace) -> str:
    """The settings a part depends on beyond its table and image."""
    return json.dumps({"iters": args.iters, "crop": args.crop, "device": args.device})


def _done(part: Path, args: argparse.Namespace) -> bool:
    """Whether a part was written with these settings (a smoke test's parts do not count for a real run)."""
    stamp = part.with_suffix(".stamp")
    return part.exists() and stamp.exists() and stamp.read_text() == _stamp(args)


def merge(name: str, args: argparse.Namespace) -> None:
    """The table's parts done so far with these settings, in its order, as one results file (``OUT/NAME.json``
    and ``.md``)."""
    from deepprior.bench.harness import means, write_outputs

    out = args.out
    parts = [p for image in TABLES[name].images(args.data) if _done(p := out / "parts" / f"{name}_{image}.json", args)]
    found = [json.loads(p.read_text()) for p in parts]
    if not found:
        return
    rows = [r for p in found for r in p["rows"]]
    if TABLES[name].study is not None:
        result = {"meta": {**found[0]["meta"], "parts": [p["meta"] for p in found]}, "rows": rows}
        target = out / f"{name}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(target)
        written = [target]
    else:
        result = {"meta": {**found[0]["meta"], "parts": [p["meta"] for p in found]}, "rows": rows,
                  "means": means(rows)}
        command_line = "python benchmarks/device_tables.py " + " ".join(sys.argv[1:])
        write_outputs(result, json_path=out / f"{name}.json", markdown_path=out / f"{name}.md", plots=None,
                      command=command_line)
        written = [out / f"{name}.json", out / f"{name}.md"]
    if os.environ.get("OUT"):
        back = Path(os.environ["OUT"])
        (back / "parts").mkdir(exist_ok=True)
        for path in written:
            shutil.copy(path, back / path.name)
        for part in parts:
            shutil.copy(part, back / "parts" / part.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", nargs="+", choices=sorted(TABLES), default=["pixels", "sr4", "sigma50", "pg"])
    ap.add_argument("--images", nargs="+", default=None, help="only these images (of every table)")
    ap.add_argument("--data", type=Path, default=ROOT / ".devdata", help="the folder holding dip-paper/ (above)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--jobs", type=int, default=8, help="images fitted at once (processes)")
    ap.add_argument("--deadline", type=float, default=540, help="seconds from the start (see above)")
    ap.add_argument("--out", type=Path, default=ROOT / ".devrun")
    ap.add_argument("--iters", type=int, default=None, help="cap every fit (a smoke test)")
    ap.add_argument("--crop", type=int, default=None, help="centre crops of this size (a smoke test)")
    args = ap.parse_args()
    missing = [f for name in args.tables for f in TABLES[name].folders if not (args.data / f).is_dir()]
    if missing:
        raise SystemExit(f"data missing under {args.data}: {', '.join(missing)} (see --help)")
    t0 = time.perf_counter()
    parts = args.out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    for name in args.tables:
        merge(name, args)
    queue = [(name, image) for name in args.tables for image in TABLES[name].images(args.data)
             if (args.images is None or image in args.images) and not _done(parts / f"{name}_{image}.json", args)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")])}
    failed: list[tuple[str, str]] = []

    def start(item: tuple[str, str]) -> subprocess.Popen[bytes]:
        name, image = item
        part = parts / f"{name}_{image}.json"
        part.unlink(missing_ok=True)
        part.with_suffix(".stamp").write_text(_stamp(args))
        with part.with_suffix(".log").open("wb") as log:  # the child keeps its own copy
            return subprocess.Popen(command(name, image, part, args), env=env, stdout=log, stderr=subprocess.STDOUT)

    def finish(item: tuple[str, str], returncode: int) -> bool:
        name, image = item
        part = parts / f"{name}_{image}.json"
        if returncode != 0 or not part.exists():
            log = part.with_suffix(".log")
            tail = log.read_text(errors="replace").splitlines()[-5:]
            print(f"{name} {image}: failed ({returncode}); the end of {log.name}:", *tail, sep="\n  ", flush=True)
            if os.environ.get("OUT"):
                shutil.copy(log, Path(os.environ["OUT"]) / log.name)
            failed.append(item)
            return False
        merge(name, args)
        print(f"{name} {image}: done at {time.perf_counter() - t0:.0f} s", flush=True)
        return True

    queue = run_jobs(queue, start, finish, jobs=args.jobs, deadline=args.deadline)
    for name in args.tables:
        merge(name, args)
    print(f"{time.perf_counter() - t0:.0f} s in all; failed: {failed}; not started: {queue}", flush=True)


if __name__ == "__main__":
    main()
