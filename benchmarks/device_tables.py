"""Issue #31's whole-image tables on a lent GPU machine: one ``deepprior bench`` process per image, several at
once, resumable, each table merged into one results file as its images finish.

On this project's 2-core CPU one whole 512x512 grey image of Table 1 costs about 4 s per iteration of `fast`
(about 2 hours to the automatic stop), so the whole-image tables need a GPU or many CPU hours. This script
runs the same harness as ``deepprior bench`` (the user's defaults on that device: preset ``paper`` on CUDA, the
task's automatic stop) with one image per process:

    python benchmarks/device_tables.py --tables pixels sr4 sr8 sigma50 pg --jobs 8 --deadline 540 --out .devrun

Tables (``TABLES``): ``pixels`` (Table 1, 11 images, ``--stop auto``: holdout), ``pixels-paper`` (the paper's
preset, 11000 iterations at lr 0.001, no stop), ``sr4`` and ``sr8`` (Set5 and Set14 from the GT shrunk by
antialiased bicubic, ``--stop auto``: the fixed count), ``sigma50`` (the nine at sigma 50, ``--stop auto``) and
``pg`` (PG-DIP against the skip network on three whole images, ``studies/pg_vs_skip.py --crop 0``). Each image
writes ``OUT/parts/TABLE_IMAGE.json``; a rerun skips the parts that exist. After each image the table's parts
are merged, in the table's order, into ``OUT/TABLE.json`` and ``.md`` (and copied to ``$OUT`` if set, as the
device machine returns that folder). ``--deadline``: no image starts that would end later (by the median time
of those done), and those still running then are stopped (their parts are lost). ``--iters`` and ``--crop``
cap every fit (a smoke test of this script on the CPU).
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

from common import DATA, ROOT, run_jobs
from deepprior.tasks.denoise import DENOISE_IMAGES
from deepprior.tasks.inpaint import PIXEL_IMAGES


def sr_images(data: Path, scale: int) -> tuple[str, ...]:
    """Set5's and Set14's images at ``scale``, as the harness finds them (names are unique across the sets)."""
    return tuple(p.name[: -len("_GT.png")] for s in ("Set5", "Set14")
                 for p in sorted((data / "dip-paper" / "sr" / s / f"x{scale}").glob("*_GT.png")))


@dataclass(frozen=True)
class Table:
    """One table: the ``deepprior bench`` arguments (or a study script) and its images, in the table's order."""

    args: tuple[str, ...]
    images: Callable[[Path], tuple[str, ...]]  # from the data folder
    study: str | None = None  # a script under benchmarks/ run instead of ``deepprior bench``


TABLES = {
    "pixels": Table(("pixels", "--stop", "auto"), lambda data: PIXEL_IMAGES),
    "pixels-paper": Table(("pixels", "--preset", "paper-pixels", "--stop", "none"), lambda data: PIXEL_IMAGES),
    "sr4": Table(("sr", "--scales", "4", "--stop", "auto"), lambda data: sr_images(data, 4)),
    "sr8": Table(("sr", "--scales", "8", "--stop", "auto"), lambda data: sr_images(data, 8)),
    "sigma50": Table(("denoise", "--sigmas", "50", "--stop", "auto"), lambda data: DENOISE_IMAGES),
    "pg": Table((), lambda data: ("F16", "kodim03", "peppers"), study="studies/pg_vs_skip.py"),
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


def merge(name: str, out: Path, data: Path) -> None:
    """The table's parts so far, in its order, as one results file (``OUT/NAME.json`` and ``.md``)."""
    from deepprior.bench.harness import means, write_outputs

    parts = [out / "parts" / f"{name}_{image}.json" for image in TABLES[name].images(data)]
    found = [json.loads(p.read_text()) for p in parts if p.exists()]
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
        for path in written:
            shutil.copy(path, Path(os.environ["OUT"]) / path.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", nargs="+", choices=sorted(TABLES), default=["pixels", "sr4", "sigma50", "pg"])
    ap.add_argument("--images", nargs="+", default=None, help="only these images (of every table)")
    ap.add_argument("--data", type=Path, default=DATA, help="the folder holding dip-paper/")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--jobs", type=int, default=8, help="images fitted at once (processes)")
    ap.add_argument("--deadline", type=float, default=540, help="seconds from the start (see above)")
    ap.add_argument("--out", type=Path, default=ROOT / ".devrun")
    ap.add_argument("--iters", type=int, default=None, help="cap every fit (a smoke test)")
    ap.add_argument("--crop", type=int, default=None, help="centre crops of this size (a smoke test)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    (args.out / "parts").mkdir(parents=True, exist_ok=True)
    queue = [(name, image) for name in args.tables for image in TABLES[name].images(args.data)
             if (args.images is None or image in args.images)
             and not (args.out / "parts" / f"{name}_{image}.json").exists()]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")])}

    def start(item: tuple[str, str]) -> subprocess.Popen[bytes]:
        name, image = item
        part = args.out / "parts" / f"{name}_{image}.json"
        with (args.out / "parts" / f"{name}_{image}.log").open("wb") as log:  # the child keeps its own copy
            return subprocess.Popen(command(name, image, part, args), env=env, stdout=log, stderr=subprocess.STDOUT)

    def finish(item: tuple[str, str], returncode: int) -> bool:
        name, image = item
        if returncode != 0 or not (args.out / "parts" / f"{name}_{image}.json").exists():
            print(f"{name} {image}: failed ({returncode}); see parts/{name}_{image}.log", flush=True)
            return False
        merge(name, args.out, args.data)
        print(f"{name} {image}: done at {time.perf_counter() - t0:.0f} s", flush=True)
        return True

    queue = run_jobs(queue, start, finish, jobs=args.jobs, deadline=args.deadline)
    print(f"{time.perf_counter() - t0:.0f} s in all; not started: {queue}", flush=True)


if __name__ == "__main__":
    main()
