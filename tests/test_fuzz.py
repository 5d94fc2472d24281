"""Fuzz the command line and the Python API with Hypothesis (issue 19, item 7).

Generated: image files of sizes 1..300 in every mode and bit depth Pillow writes (and 16-bit PNG and TIFF),
damaged, misnamed or empty files, masks of every kind, option values (NaN, infinities, huge and negative
numbers, words) and output paths (unknown or no extension, missing folders, the input itself). The
properties, for every input:

1. exit code 0, or 1 or 2 with a one-line error and never a traceback (the API: a result, or a
   :class:`~deepprior.errors.DeepPriorError` of one line);
2. no input file (or array) changed;
3. no partial output: after a failure no file in the output folder, and never a temporary file left;
4. on success the output has the input's size (times the scale for super-resolve), channels (alpha kept),
   and 8/16-bit depth; other modes converted by :data:`fuzz_cases.MODE_RULE`.

Budgets: the default suite runs the ``short`` profile (a few hundred examples in all, a fixed seed per test, no
example database, no shrinking: about 45 s on one busy core when nothing fails).
``make test-fuzz`` (``pytest -m fuzz tests/test_fuzz.py``) runs the ``long`` one: ``FUZZ_SCALE`` (10) times
as many examples per test, random, with Hypothesis's database in ``.hypothesis/``; with ``FUZZ_SEED=N`` (CI's
``.ci/run``: 2026) its draws are fixed, so every run checks the same cases. ``HYPOTHESIS_PROFILE=long`` runs the
default-suite tests with the long budget too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from PIL import Image

import deepprior
from deepprior import io
from deepprior.cli import cli
from deepprior.errors import DeepPriorError
from fuzz_cases import (
    Expected,
    ImageRecipe,
    chance,
    expected_from_array,
    expected_from_pil,
    finite,
    floats_text,
    image_recipes,
    ints_text,
    make_image,
    make_mask,
    option_value,
    png_bytes,
    sides,
)

# --------------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------------

_COMMON = {"deadline": None, "suppress_health_check": list(HealthCheck), "print_blob": True}
# short: a fixed seed per test (``run_property``), no database, no shrinking (a failure in the default suite
# is reported at once, as drawn; the long run shrinks it)
settings.register_profile("short", database=None, phases=[Phase.explicit, Phase.generate], **_COMMON)
settings.register_profile("long", **_COMMON)
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "10"))
BUDGETS = [pytest.param("short"), pytest.param("long", marks=pytest.mark.fuzz)]


def run_property(key: str, budget_name: str, examples: int, cases: st.SearchStrategy[Any],
                 run: Callable[[Any], None]) -> None:
    """Check ``run`` on ``examples`` cases (``FUZZ_SCALE`` times as many in the long profile)."""
    long = budget_name == "long" or os.environ.get("HYPOTHESIS_PROFILE") == "long"

    @settings(settings.get_profile("long" if long else "short"), max_examples=examples * (FUZZ_SCALE if long else 1))
    @given(cases)
    def prop(case: Any) -> None:
        run(case)

    fixed = os.environ.get("FUZZ_SEED")  # CI's long run: the same cases on every run (.ci/run)
    if not long or fixed is not None:
        prop = seed(zlib.crc32(key.encode()) + int(fixed or 0))(prop)
    prop()


# --------------------------------------------------------------------------------------------------
# A workspace per example: inputs in in/, outputs in out/, a folder that never exists, a work folder
# --------------------------------------------------------------------------------------------------


@dataclass
class Workspace:
    root: Path

    @property
    def inp(self) -> Path:
        return self.root / "in"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def work(self) -> Path:
        return self.root / "wd"

    def path(self, text: str) -> str:
        """A symbolic path (``{in}/x``, ``{out}/x``, ``{missing}/x``, ``{wd}``) in this workspace."""
        return text.format(**{"in": self.inp, "out": self.out, "missing": self.root / "missing", "wd": self.work})

    def hashes(self) -> dict[str, str]:
        return {str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.inp.rglob("*")) if p.is_file()}

    def files(self, under: Path | None = None) -> list[Path]:
        return sorted(p for p in (under or self.root).rglob("*") if p.is_file())


@contextlib.contextmanager
def workspace(base: Path) -> Iterator[Workspace]:
    """A fresh folder; its output folder is made the current one (relative writes count as outputs)."""
    root = Path(tempfile.mkdtemp(dir=base))
    ws = Workspace(root)
    ws.inp.mkdir()
    ws.out.mkdir()
    cwd, threads = os.getcwd(), torch.get_num_threads()
    os.chdir(ws.out)
    try:
        yield ws
    finally:
        os.chdir(cwd)
        torch.set_num_threads(threads)
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# The properties
# --------------------------------------------------------------------------------------------------


def _raw(result: Result) -> str:
    if result.exc_info is None or isinstance(result.exc_info[1], SystemExit):
        return ""
    return "".join(traceback.format_exception(*result.exc_info))


def check_clean_exit(result: Result) -> None:
    """Property 1: exit 0, or 1/2 with exactly one line of error at the end; never a traceback."""
    raw = _raw(result)
    assert not raw, f"raw exception (exit {result.exit_code}):\n{raw}"
    assert result.exit_code in (0, 1, 2), f"exit code {result.exit_code}: {result.output}"
    assert "Traceback" not in result.output, result.output
    if result.exit_code != 0:
        # the last line, after a progress bar perhaps; and no other
        lines = result.stderr.rstrip().splitlines()
        starts = [i for i, line in enumerate(lines) if re.search(r"(^|[\]\r])Error: \S", line)]
        assert starts == [len(lines) - 1], f"not a one-line error:\n{result.stderr}"


def check_files(ws: Workspace, before: dict[str, str], failed: bool) -> None:
    """Properties 2 and 3: inputs unchanged, no temporary file; on failure no file written at all, on success
    files only in the output folder and in the folders asked for (``--snapshot-dir``, which is made when
    missing). A work folder (``--work-dir``) may stay behind either way: it is what ``--resume`` reads.
    """
    assert ws.hashes() == before, "an input file changed"
    leftovers = [p for p in ws.files() if p.suffix == ".tmp" or p.name.startswith(".")]
    assert not leftovers, f"temporary files left: {leftovers}"
    written = [p for p in ws.files() if not p.is_relative_to(ws.inp) and "wd" not in p.relative_to(ws.root).parts]
    if failed:
        assert not written, f"failed, but left {[str(p.relative_to(ws.root)) for p in written]}"
    stray = [p for p in written if not p.is_relative_to(ws.out) and "snaps" not in p.relative_to(ws.root).parts]
    assert not stray, f"files written outside the output folder: {stray}"


def check_output(path: Path, expected: Expected | None) -> None:
    """Property 4: the saved image has the expected size, channels, alpha and bit depth."""
    assert path.is_file(), f"exit 0 but no output at {path}"
    got = io.load_image(path)
    if expected is None:
        return
    found = Expected(got.width, got.height, got.channels, got.alpha is not None, got.bit_depth)
    assert found == expected, f"output {path.name} is {found}; expected {expected}"


def check_report(path: Path | None) -> None:
    """On success a report asked for is whole, strict JSON (no NaN or Infinity)."""
    if path is None or not path.parent.is_dir() or path.is_dir():
        return
    assert path.is_file(), f"exit 0 but no report at {path}"

    def refuse(token: str) -> None:
        raise AssertionError(f"report {path.name} is not strict JSON: it holds {token}")

    json.loads(path.read_text(), parse_constant=refuse)


# --------------------------------------------------------------------------------------------------
# Option strategies (paths written symbolically, resolved in each example's workspace)
# --------------------------------------------------------------------------------------------------

OUTPUTS = ("{out}/restored.png", "{out}/restored.png", "{out}/restored.png", "{out}/restored.png",
           "{out}/restored.jpg", "{out}/restored.tif", "{out}/restored.tiff", "{out}/restored.bmp",
           "{out}/restored.webp", "{out}/restored.PNG", "{out}", "{out}/restored.gif", "{out}/restored.xyz",
           "{out}/restored", "{missing}/restored.png", "{input}", "")
ITERS_NASTY = ("0", "-1", "2.5", "abc", "nan", "", str(2**63), str(2**64), str(10**30), "1e3", "5")
FIGURES = ("{out}/figure.png", "{out}/figure.png", "{missing}/figure.png", "{out}/figure.xyz", "{out}/figure",
           "{out}/figure.svg")


@st.composite
def common_options(draw: st.DrawFn, *, tiling: bool = True, reference: bool = True) -> list[str]:
    """The shared options, most absent; ``--iters`` always given, and small unless nasty."""
    args = ["--iters", draw(option_value(ints_text(1, 3), ITERS_NASTY, absent=0))]
    if not (finite(args[1]) and float(args[1]) <= 3):
        args += ["--time-limit", "1"]  # a huge or odd count must not run for ever
    else:
        args += _flag("--time-limit", draw(option_value(floats_text(0.5, 60), absent=8)))
    args += _flag("--seed", draw(option_value(st.sampled_from(["0", "1", str(2**31), str(2**63 - 1)]), absent=7)))
    # one thread: the suite must not compete with itself; more than the cores is to be refused
    args += _flag("--threads", draw(option_value(st.just("1"), ("0", "-1", str((os.cpu_count() or 1) + 1), str(2**31),
                                                               str(2**63), str(2**64), "abc", "nan"), absent=8)))
    args += _flag("--lr", draw(option_value(floats_text(1e-4, 0.1), absent=8)))
    args += _flag("--stop", draw(option_value(st.sampled_from(
        ["auto", "none", "wmv", "mns-static", "mns-adaptive", "min-loss", "holdout"]), ("", "bogus"), absent=7)))
    args += _flag("--net", draw(option_value(st.sampled_from(["decoder", "resnet", "skip", "hourglass", "unet", "pg"]),
                                             ("", "bogus", "SKIP"), absent=7)))
    args += _flag("--preset", draw(option_value(st.sampled_from(["fast", "paper"]),
                                                ("", "bogus", "paper-pixels", "paper-text"), absent=8)))
    # (fp16 on a CPU is valid but takes minutes for 3 iterations of a 123x123 image: left out)
    args += _flag("--precision", draw(option_value(st.sampled_from(["fp32", "bf16", "auto"]), ("bogus", ""),
                                                   absent=8)))
    args += _flag("--device", draw(option_value(st.sampled_from(["cpu", "auto"]), ("cuda", "mps", "bogus", ""),
                                                absent=8)))
    args += _flag("--report", draw(option_value(st.just("{out}/report.json"),
                                                ("{missing}/report.json", "{out}", "{out}/report"), absent=7)))
    if reference:
        args += _flag("--reference", draw(option_value(st.just("{input}"),
                                                       ("{in}/small.png", "{missing}/ref.png", "{in}/text.png",
                                                        "{in}"), absent=8)))
    args += _flag("--snapshots", draw(option_value(st.sampled_from(["1", "1,2", "2"]),
                                                   ("0", "-1", "abc", "99999", str(2**64), ",", "1,,2", "nan"),
                                                   absent=8)))
    if "--snapshots" in args:
        args += _flag("--snapshot-dir", draw(option_value(st.just("{out}/snaps"),
                                                          ("{missing}/snaps", "{out}/deep/er/snaps"), absent=6)))
    for flag in ("--curves", "--compare"):
        args += _flag(flag, draw(option_value(st.just("{out}/figure.png"), FIGURES, absent=9)))
    args += _flag("--animation", draw(option_value(st.just("{out}/fit.gif"),
                                                   ("{out}/fit.mp4", "{out}/fit.xyz", "{missing}/fit.gif"), absent=9)))
    if tiling:
        args += _flag("--tile", draw(option_value(st.sampled_from(["64", "100", "300"]),
                                                  ("0", "7", "-1", str(2**64), "abc", "nan"), absent=8)))
        args += _flag("--overlap", draw(option_value(ints_text(0, 32), ("-1", str(2**64), "abc", "nan"), absent=8)))
        args += _flag("--max-memory", draw(option_value(st.sampled_from(["4GB", "512MB", "1GB"]),
                                                        ("0", "-1GB", "nanGB", "infGB", "1e30GB", "abc", "",
                                                         "1e400GB", "0GB", str(2**64)), absent=8)))
        args += _flag("--work-dir", draw(option_value(st.just("{wd}"), ("{missing}/wd",), absent=8)))
        if chance(draw, 10 if "--work-dir" in args else 1):
            args.append("--resume")
    if not chance(draw, 20):
        args.append("-q")
    return args


def _flag(flag: str, value: str | None) -> list[str]:
    return [] if value is None else [flag, value]


def _value(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


# --------------------------------------------------------------------------------------------------
# Running one CLI case
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliCase:
    """One command line: the task, its image, task options, shared options and output (paths symbolic)."""

    task: str
    image: ImageRecipe
    options: tuple[str, ...]
    output: str
    mask: str | None = None
    mask_seed: int = 0


def _aux_files(ws: Workspace) -> None:
    """Files options may name: a reference of another size, a text file, blur kernel files."""
    (ws.inp / "small.png").write_bytes(png_bytes(np.zeros((5, 6), np.uint8)))
    (ws.inp / "text.png").write_bytes(b"not an image\n")
    rng = np.random.default_rng(0)
    (ws.inp / "kernel.png").write_bytes(png_bytes(rng.integers(0, 256, (5, 5), dtype=np.uint8)))
    (ws.inp / "kernel_even.png").write_bytes(png_bytes(rng.integers(0, 256, (4, 6), dtype=np.uint8)))
    (ws.inp / "kernel_zero.png").write_bytes(png_bytes(np.zeros((3, 3), np.uint8)))
    (ws.inp / "kernel_rgb.png").write_bytes(png_bytes(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)))
    (ws.inp / "kernel_big.png").write_bytes(png_bytes(np.full((403, 403), 255, np.uint8)))
    (ws.inp / "kernel_bad.png").write_bytes(png_bytes(np.ones((3, 3), np.uint8))[:40])


def run_cli(base: Path, case: CliCase, expected_of: Callable[[Expected], Expected | None]) -> None:
    """Run one case in a fresh workspace and hold it to the four properties."""
    image = make_image(case.image)
    with workspace(base) as ws:
        src = image.write(ws.inp)
        _aux_files(ws)
        args = [case.task, str(src)]
        if case.mask is not None:
            data = make_mask(case.mask, case.image.width, case.image.height, case.mask_seed)
            if data is not None:
                (ws.inp / "mask.png").write_bytes(data)
            if case.mask != "none":
                args += ["--mask", str(ws.inp / "mask.png")]
        sub = {"{input}": str(src)}
        output = sub.get(case.output) or ws.path(case.output)
        options = [sub.get(o) or ws.path(o) for o in case.options]
        args += [*options, "-o", output]
        before = ws.hashes()
        result = CliRunner().invoke(cli, args)
        check_clean_exit(result)
        check_files(ws, before, failed=result.exit_code != 0)
        if result.exit_code == 0:
            out = Path(output)
            target = out / f"{src.stem}.png" if out.is_dir() else out
            check_output(target, None if image.expected is None else expected_of(image.expected))
            report = _value(args, "--report")
            check_report(None if report is None else Path(report))


# --------------------------------------------------------------------------------------------------
# The command line, task by task
# --------------------------------------------------------------------------------------------------

DENOISE_NUMBERS = {"--sigma": floats_text(0, 100), "--peak": floats_text(1, 100), "--amount": floats_text(0, 0.5)}


@st.composite
def denoise_cases(draw: st.DrawFn) -> CliCase:
    opts: list[str] = []
    for flag, sane in DENOISE_NUMBERS.items():
        opts += _flag(flag, draw(option_value(sane, absent=8)))
    opts += _flag("--noise", draw(option_value(
        st.sampled_from(["gaussian", "poisson", "salt-pepper", "speckle", "unknown"]), ("bogus", ""), absent=8)))
    opts += _flag("--loss", draw(option_value(st.sampled_from(["mse", "l1", "poisson", "speckle"]), ("bogus",),
                                              absent=9)))
    if chance(draw, 10):
        opts.append(draw(st.sampled_from(["--keep-known", "--no-keep-known"])))
    return CliCase("denoise", draw(image_recipes()), (*opts, *draw(common_options())), draw(st.sampled_from(OUTPUTS)))


@st.composite
def inpaint_cases(draw: st.DrawFn) -> CliCase:
    from fuzz_cases import MASK_KINDS

    opts: list[str] = []
    if chance(draw, 10):
        opts.append(draw(st.sampled_from(["--keep-known", "--no-keep-known"])))
    # without a mask, the holes are the transparent pixels: most images then carry alpha
    mask = draw(st.sampled_from(MASK_KINDS))
    writers = None if mask != "none" or chance(draw, 30) else (
        "PNG:RGBA", "PNG:LA", "png16-RGBA", "png16-LA", "png-palette-trns", "TIFF:RGBA", "WEBP:RGBA")
    return CliCase("inpaint", draw(image_recipes(writers=writers)), (*opts, *draw(common_options())),
                   draw(st.sampled_from(OUTPUTS)), mask=mask, mask_seed=draw(st.integers(0, 99)))


@st.composite
def super_resolve_cases(draw: st.DrawFn) -> CliCase:
    scale = draw(option_value(st.sampled_from(["2", "4", "8"]), ("0", "1", "3", "16", "-2", "abc", "2.0", "", "nan"),
                              absent=0))
    factor = int(scale) if scale in ("2", "4", "8") else 2
    recipe = draw(image_recipes(max_side=200 // factor))  # the output stays within 200 pixels a side
    opts = ["--scale", scale]
    opts += _flag("--kernel", draw(option_value(st.sampled_from(["lanczos2", "lanczos3", "bicubic", "box"]),
                                                ("bogus", "", "gaussian:1"), absent=8)))
    return CliCase("super-resolve", recipe, (*opts, *draw(common_options())), draw(st.sampled_from(OUTPUTS)))


@st.composite
def jpeg_cases(draw: st.DrawFn) -> CliCase:
    jpegs = tuple(f"JPEG:{m}" for m in ("L", "RGB", "CMYK", "YCbCr", "1"))
    recipe = draw(image_recipes(writers=jpegs) if draw(st.booleans()) else image_recipes())
    return CliCase("jpeg", recipe, tuple(draw(common_options())), draw(st.sampled_from(OUTPUTS)))


BLUR_SANE = ("gaussian:1", "gaussian:0.8", "box:3", "box:1", "motion:5,30", "motion:3,0", "{in}/kernel.png",
             "GAUSSIAN: 1.5")
BLUR_NASTY = ("gaussian:nan", "gaussian:inf", "gaussian:-1", "gaussian:0", "gaussian:1e30", "gaussian:51",
              "box:0", "box:2.5", "box:202", f"box:{2**64}", "motion:nan,0", "motion:1e30,0", "motion:5",
              "motion:5,inf", "motion:5,30,1", "", "gaussian", "gaussian:", "foo:1", ":::", "{missing}/k.png",
              "{in}/kernel_even.png", "{in}/kernel_zero.png", "{in}/kernel_bad.png", "{in}/kernel_rgb.png",
              "{in}/kernel_big.png", "{in}", "{in}/text.png")


@st.composite
def deblur_cases(draw: st.DrawFn) -> CliCase:
    opts = ["--kernel", draw(option_value(st.sampled_from(BLUR_SANE), BLUR_NASTY, absent=0))]
    opts += _flag("--sigma", draw(option_value(floats_text(0, 50), absent=7)))
    return CliCase("deblur", draw(image_recipes()), (*opts, *draw(common_options())), draw(st.sampled_from(OUTPUTS)))


def _same(e: Expected) -> Expected:
    return e


def _opaque(e: Expected) -> Expected:
    return Expected(e.width, e.height, e.channels, False, e.depth)


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_cli_denoise(budget_name, tmp_path):
    run_property("denoise", budget_name, 120, denoise_cases(), lambda c: run_cli(tmp_path, c, _same))


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_cli_inpaint(budget_name, tmp_path):
    def run(case: CliCase) -> None:
        run_cli(tmp_path, case, _same if case.mask != "none" else _opaque)

    run_property("inpaint", budget_name, 120, inpaint_cases(), run)


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_cli_super_resolve(budget_name, tmp_path):
    def run(case: CliCase) -> None:
        factor = int(case.options[1]) if case.options[1] in ("2", "4", "8") else 1
        run_cli(tmp_path, case, lambda e: e.scaled(factor))

    run_property("super-resolve", budget_name, 80, super_resolve_cases(), run)


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_cli_jpeg(budget_name, tmp_path):
    run_property("jpeg", budget_name, 50, jpeg_cases(), lambda c: run_cli(tmp_path, c, _same))


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_cli_deblur(budget_name, tmp_path):
    run_property("deblur", budget_name, 80, deblur_cases(), lambda c: run_cli(tmp_path, c, _same))


# --------------------------------------------------------------------------------------------------
# degrade
# --------------------------------------------------------------------------------------------------

DEGRADE_OUTPUTS = tuple(o.replace("restored", "degraded") for o in OUTPUTS if o != "{out}")


@st.composite
def degrade_cases(draw: st.DrawFn) -> CliCase:
    # one noise level, as a user would give it (two, or none with nothing else, are refused: some cases do that)
    level = draw(st.sampled_from([*DENOISE_NUMBERS, None]))
    opts: list[str] = []
    for flag, sane in DENOISE_NUMBERS.items():
        opts += _flag(flag, draw(option_value(sane, absent=0 if flag == level else 10)))
    if level == "--sigma" or chance(draw, 10):
        opts += _flag("--noise", draw(option_value(st.sampled_from(["gaussian", "speckle"]),
                                                   ("bogus", "unknown", "", "poisson"), absent=5)))
    opts += _flag("--drop", draw(option_value(floats_text(0, 0.9), absent=7)))
    opts += _flag("--downscale", draw(option_value(ints_text(1, 4), ("0", "-1", "1000", str(2**64), "2.5", "abc"),
                                                   absent=7)))
    opts += _flag("--blur", draw(option_value(st.sampled_from(BLUR_SANE), BLUR_NASTY, absent=7)))
    opts += _flag("--seed", draw(option_value(st.sampled_from(["0", "7", str(2**32), str(2**63 - 1)]), absent=7)))
    opts += _flag("--mask-out", draw(option_value(st.just("{out}/mask.png"),
                                                  ("{missing}/mask.png", "{out}/mask.xyz", "{out}/mask", "{input}"),
                                                  absent=3 if "--drop" in opts else 9)))
    return CliCase("degrade", draw(image_recipes()), tuple(opts), draw(st.sampled_from(DEGRADE_OUTPUTS)))


def _downscaled(options: tuple[str, ...]) -> Callable[[Expected], Expected | None]:
    factor = options[options.index("--downscale") + 1] if "--downscale" in options else "1"

    def rule(e: Expected) -> Expected | None:
        f = int(factor) if factor.isdigit() and int(factor) >= 1 else 1
        return Expected(e.width // f, e.height // f, e.channels, e.alpha, e.depth)

    return rule


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_cli_degrade(budget_name, tmp_path):
    def run(case: CliCase) -> None:
        run_cli(tmp_path, case, _downscaled(case.options))

    run_property("degrade", budget_name, 200, degrade_cases(), run)


# --------------------------------------------------------------------------------------------------
# The Python API
# --------------------------------------------------------------------------------------------------

DTYPES = ("uint8", "uint8", "uint16", "float32", "float64", "bool", "int8", "int16", "int32", "int64", "uint32",
          "uint64", "float16", "complex64", "object")
VALUES = ("unit", "unit", "wide", "negative", "nan", "inf", "huge")


@dataclass(frozen=True)
class ArraySpec:
    """How to make the API's input array."""

    dtype: str
    shape: tuple[int, ...]
    values: str
    seed: int


def make_array(spec: ArraySpec) -> np.ndarray:
    rng = np.random.default_rng(spec.seed)
    dtype = np.dtype(spec.dtype)
    top = {"unit": 1.0, "wide": 255.0, "negative": 1.0, "nan": 1.0, "inf": 1.0, "huge": 1e30}[spec.values]
    if dtype.kind in "ui":
        top = {"unit": 255, "wide": 65535}.get(spec.values, float(np.iinfo(dtype).max))
    a = np.asarray(rng.uniform(0, top, spec.shape))
    if spec.values == "negative":
        a = a - top / 2
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        a = np.clip(np.round(a), info.min, info.max)
    if dtype.kind in "fc" and a.size and spec.values in ("nan", "inf"):
        a.flat[int(rng.integers(a.size))] = np.nan if spec.values == "nan" else np.inf
    if dtype == np.bool_:
        return np.asarray(a > top / 2)
    with np.errstate(all="ignore"):
        return np.asarray(a.astype(dtype))


@st.composite
def array_specs(draw: st.DrawFn, max_side: int = 300) -> ArraySpec:
    h, w = draw(sides(1, max_side)), draw(sides(1, max_side))
    shape = draw(st.sampled_from([(h, w), (h, w), (h, w, 3), (h, w, 3), (h, w, 1), (h, w, 2), (h, w, 4), (h, w, 5),
                                  (h, w, 0), (1, h, w, 3), (h,), (), (0, w), (3, h, w)]))
    return ArraySpec(draw(st.sampled_from(DTYPES)), shape, draw(st.sampled_from(VALUES)), draw(st.integers(0, 999)))


@dataclass(frozen=True)
class ApiCase:
    """One API call: the function, its image (an array or a PIL image), its keywords."""

    task: str
    source: ArraySpec | ImageRecipe
    keywords: tuple[tuple[str, Any], ...]


#: Values the API's numeric keywords are given besides sane ones: wrong types, NaN, infinities, huge numbers.
API_NASTY: tuple[Any, ...] = (0, -1, 2.5, "2", True, float("nan"), float("inf"), -float("inf"), 2**64, 10**30, 1e30,
                              np.int64(2), np.float32(0.5), None, [2])


def _api_value(sane: st.SearchStrategy[Any], absent: int = 6) -> st.SearchStrategy[Any]:
    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        r = draw(st.integers(0, 99))
        if r < 10 * absent:
            return _ABSENT
        return draw(sane) if r < 94 else draw(st.sampled_from(API_NASTY))

    return pick()


_ABSENT = object()


@st.composite
def api_cases(draw: st.DrawFn) -> ApiCase:
    task = draw(st.sampled_from(["denoise", "inpaint", "super_resolve", "jpeg", "deblur", "degrade"]))
    source: ArraySpec | ImageRecipe
    max_side = 25 if task == "super_resolve" else 300  # the output stays within 200 pixels a side
    if not chance(draw, 30):
        source = draw(array_specs(max_side))
    else:
        source = draw(image_recipes(damaged=False, max_side=max_side, writers=tuple(f"TIFF:{m}" for m in (
            "1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I", "F", "CMYK", "YCbCr", "LAB"))))
    kw: dict[str, Any] = {}
    if task == "degrade":
        kw["seed"] = draw(_api_value(st.sampled_from([0, 3, 2**63 - 1])))
        for name, sane in (("sigma", st.floats(0, 100)), ("peak", st.floats(1, 100)), ("amount", st.floats(0, 0.5)),
                           ("drop", st.floats(0, 0.9)), ("downscale", st.integers(1, 3)),
                           ("blur", st.sampled_from(["gaussian:1", "box:3", "motion:3,10"]))):
            kw[name] = draw(_api_value(sane, absent=7))
        if all(v is _ABSENT for v in kw.values()):
            kw["sigma"] = 25
    else:
        kw["num_iter"] = draw(_api_value(st.integers(1, 2), absent=0))
        if not (isinstance(kw["num_iter"], (int, np.integer)) and not isinstance(kw["num_iter"], bool)
                and 0 <= kw["num_iter"] <= 3):
            kw["time_limit"] = 1.0
        else:
            kw["time_limit"] = draw(_api_value(st.floats(0.5, 60)))
        kw["seed"] = draw(_api_value(st.sampled_from([0, 1, 2**63 - 1])))
        kw["lr"] = draw(_api_value(st.floats(1e-4, 0.1)))
        kw["threads"] = draw(_api_value(st.sampled_from([1, 2]), absent=8))
        kw["net"] = draw(_api_value(st.sampled_from(["decoder", "skip", "resnet"]), absent=7))
        for name, sane in (("stop", st.sampled_from(["auto", "none", "min-loss"])),
                           ("preset", st.sampled_from(["fast", "paper"])),
                           ("precision", st.sampled_from(["fp32", "bf16", "auto"])),
                           ("device", st.sampled_from(["cpu", "auto"])),
                           ("max_memory", st.sampled_from(["4GB", "1GB", 2**30])),
                           ("tile", st.sampled_from([64, 128, 300]))):
            kw[name] = draw(_api_value(sane, absent=8))
    if task == "denoise":
        kw["sigma"] = draw(_api_value(st.floats(0, 100)))
        kw["noise"] = draw(_api_value(st.sampled_from(["gaussian", "poisson", "salt-pepper", "speckle", "bogus"])))
    elif task == "inpaint":
        kw["mask"] = draw(st.sampled_from(["bool", "bool-wrong", "uint8", "float", "all-false", "all-true", "none",
                                           "missing"]))
    elif task == "super_resolve":
        kw["scale"] = draw(st.sampled_from([2, 4, 8, 3, "2", 2.0, True, 0, None]))
    elif task == "deblur":
        kw["kernel"] = draw(st.sampled_from(["gaussian:1", "box:3", "gaussian:nan", "box:0", "", "nope"]))
        kw["sigma"] = draw(_api_value(st.floats(0, 50)))
    return ApiCase(task, source, tuple((k, v) for k, v in kw.items() if v is not _ABSENT))


def _api_mask(kind: str, h: int, w: int) -> Any:
    rng = np.random.default_rng(1)
    known = rng.random((h, w)) > 0.3
    return {"bool": known, "bool-wrong": known[: max(h - 1, 1), :], "uint8": known.astype(np.uint8) * 255,
            "float": known.astype(np.float32), "all-false": np.zeros((h, w), bool), "all-true": np.ones((h, w), bool),
            "none": None, "missing": "missing/mask.png"}[kind]


def run_api(base: Path, case: ApiCase) -> None:
    source: Any
    if isinstance(case.source, ArraySpec):
        source = make_array(case.source)
        kept: Any = source.copy()
        expected = expected_from_array(source) if source.dtype != object else None
    else:
        image = make_image(case.source)
        with Image.open(BytesIO(image.data)) as opened:
            opened.load()
            source = opened.copy()
        kept = (source.mode, source.size, source.tobytes())
        expected = expected_from_pil(source)
    kw = dict(case.keywords)
    shape = np.shape(source) if isinstance(source, np.ndarray) else (source.height, source.width)
    if case.task == "inpaint" and len(shape) >= 2:
        kw["mask"] = _api_mask(kw["mask"], int(shape[0]), int(shape[1]))
    elif case.task == "inpaint":
        kw["mask"] = None
    with workspace(base) as ws:
        try:
            fn = getattr(deepprior, case.task)
            result = fn(source, **kw)
        except DeepPriorError as exc:
            message = str(exc)
            assert message.strip() and "\n" not in message.strip(), f"not a one-line error: {message!r}"
            result = None
        except Exception as exc:  # noqa: BLE001 - the property: nothing else escapes
            raise AssertionError(f"raw {type(exc).__name__}: {exc}\n{traceback.format_exc()}") from None
        stray = ws.files()
        assert not stray, f"the API wrote files: {stray}"
    if isinstance(source, np.ndarray):
        assert source.dtype == kept.dtype and np.array_equal(source, kept, equal_nan=source.dtype.kind in "fc"), \
            "the input array changed"
    else:
        assert (source.mode, source.size, source.tobytes()) == kept, "the input image changed"
    if result is None:
        return
    got = result.image
    assert expected is not None, f"accepted an input the rule refuses ({case.source})"
    assert got.pixels.dtype == np.float32 and np.isfinite(got.pixels).all(), "output pixels not finite float32"
    assert got.pixels.min() >= 0 and got.pixels.max() <= 1, "output pixels outside [0, 1]"
    if case.task == "super_resolve":
        expected = expected.scaled(int(kw["scale"]))
    if case.task == "inpaint" and kw.get("mask") is None:
        expected = Expected(expected.width, expected.height, expected.channels, False, expected.depth)
    if case.task == "degrade" and isinstance(kw.get("downscale"), int) and kw["downscale"] >= 1:
        f = kw["downscale"]
        expected = Expected(expected.width // f, expected.height // f, expected.channels, expected.alpha,
                            expected.depth)
    found = Expected(got.width, got.height, got.channels, got.alpha is not None, got.bit_depth)
    assert found == expected, f"output is {found}; expected {expected}"


@pytest.mark.parametrize("budget_name", BUDGETS)
def test_api(budget_name, tmp_path):
    run_property("api", budget_name, 300, api_cases(), lambda c: run_api(tmp_path, c))
