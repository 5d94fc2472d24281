"""The log: the library logs under ``deepprior`` and never prints below the command line; every command takes
``--log-level`` and ``-v``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import deepprior
from deepprior import io
from deepprior.cli import cli

SRC = Path(deepprior.__file__).parent


@pytest.fixture
def noisy(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "noisy.png"
    io.save_image(path, np.clip(rng.normal(128, 25, (24, 20, 3)), 0, 255).astype(np.uint8))
    return path


def test_the_plan_is_an_info_line_that_the_log_level_hides(noisy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["denoise", str(noisy), "-o", str(tmp_path / "o.png"), "--iters", "2", "--threads", "1"]
    shown = runner.invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    assert "plan: denoise 20x24" in shown.output
    for flags in (["--log-level", "warning"], ["--log-level", "error"]):
        hidden = runner.invoke(cli, [*args, *flags, "--overwrite"])
        assert hidden.exit_code == 0, hidden.output
        assert "plan:" not in hidden.output
    before_command = runner.invoke(cli, ["--log-level", "warning", *args, "--overwrite"])
    assert before_command.exit_code == 0 and "plan:" not in before_command.output
    verbose = runner.invoke(cli, [*args, "-v", "--overwrite"])
    assert verbose.exit_code == 0 and "plan: denoise 20x24" in verbose.output


@pytest.mark.parametrize("command", ["denoise", "inpaint", "super-resolve", "jpeg", "flash-no-flash", "deblur",
                                     "degrade", "nets", "demo", "serve"])
def test_every_command_takes_the_log_options(command: str) -> None:
    out = CliRunner().invoke(cli, [command, "--help"]).output
    assert "--log-level" in out and "-v, --verbose" in out, out


def test_the_library_never_prints_below_the_command_line() -> None:
    below = [p for p in SRC.rglob("*.py") if "cli" not in p.relative_to(SRC).parts]
    found = [f"{p.relative_to(SRC)}:{n}" for p in below
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r"(?<![\w.])print\(", line) and not line.strip().startswith(">>>")]
    assert found == [], found


def test_a_batch_logs_each_file_and_each_tile_at_debug(noisy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(noisy.read_bytes())
    args = ["denoise", str(folder), "-o", str(tmp_path / "out"), "--iters", "2", "--threads", "1",
            "--tile", "16", "--overlap", "2"]
    result = CliRunner().invoke(cli, [*args, "--log-level", "debug"])
    assert result.exit_code == 0, result.output
    for name in ("a.png", "b.png"):
        assert re.search(rf"{name}: denoise started \(serial on .+, pid \d+\)", result.output), result.output
        assert re.search(rf"{name}: fitted in [\d.]+ s, \d+ iterations", result.output), result.output
        # the driver's line, whatever the backend (--jobs and Ray workers log in their own processes)
        assert re.search(rf"{name}: done \(serial on .+, pid \d+, [\d.]+ s\)", result.output), result.output
    assert "4 tiles to fit (0 found in the work folder), 1 at a time" in result.output, result.output
    assert re.search(r"tile 0 \(rows 0-\d+, columns 0-\d+\): 2 iterations \(max_iter\)", result.output)
    args[3] = str(tmp_path / "out2")
    default = CliRunner().invoke(cli, args)  # info: the tiles' count, not each file's start or each tile
    assert default.exit_code == 0 and "tiles to fit" in default.output, default.output
    assert "started" not in default.output and "tile 0 (rows" not in default.output


def test_quiet_prints_only_errors_and_debug_lines_carry_time_level_and_module(noisy: Path, tmp_path: Path) -> None:
    args = ["denoise", str(noisy), "-o", str(tmp_path / "o.png"), "--iters", "2", "--threads", "1", "--tile", "16",
            "--overlap", "2"]
    quiet = CliRunner().invoke(cli, [*args, "-q"])
    assert quiet.exit_code == 0 and quiet.output == "", quiet.output
    debug = CliRunner().invoke(cli, [*args, "--overwrite", "--log-level", "debug"])
    lines = [line for line in debug.output.splitlines() if "restore.tiled: tile 0 (rows" in line]
    assert len(lines) == 1 and re.match(r"\d\d:\d\d:\d\d\.\d{3} DEBUG   restore\.tiled: tile 0", lines[0]), lines
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} INFO    restore\.run: plan: denoise", debug.output, flags=re.M)
    failed = CliRunner().invoke(cli, [*args, "-q", "--iters", "0"])
    assert failed.exit_code != 0 and "--iters" in failed.output
