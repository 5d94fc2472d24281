"""The plan said before a fit (issue #34): size, tiles, iterations, stop and a time estimate; ``--dry-run``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from deepprior.cli import cli
from deepprior.restore import plan as plan_module
from deepprior.restore.run import plan_restoration
from deepprior.tasks import build_problem


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPPRIOR_CACHE", str(tmp_path / "cache"))


def test_a_phone_photo_is_planned_in_tiles_with_a_range_from_the_measured_speed(monkeypatch):
    probes = []

    def probe(problem, rs, side, threads, build):
        probes.append((side, threads))
        return 0.1, 0.5

    monkeypatch.setattr(plan_module, "_probe", probe)
    monkeypatch.setattr(plan_module.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    noisy = np.random.default_rng(0).random((2000, 3000, 3)).astype(np.float32)
    problem = build_problem("denoise", [noisy], {"sigma": 25})
    p = plan_restoration(problem, device="cpu", threads=1)
    assert (p.width, p.height, p.workers, p.num_iter, p.stop) == (3000, 2000, 1, 3000, "mns-adaptive")
    assert p.tiles == math.ceil(2000 / 128) * math.ceil(3000 / 128)
    assert probes == [(p.tile_side, 1)] and p.probe == p.tile_side
    overhead = 0.5 * p.tiles  # one worker: every tile's fixed cost, no start-up
    assert p.high is not None and p.low is not None
    assert p.low - overhead == pytest.approx((p.high - overhead) * plan_module.EARLY_STOP)
    # every tile's pixels at the probe's speed per pixel, times the cap
    assert p.high - overhead > p.tiles * 128 * 128 / p.probe**2 * 0.1 * 3000
    line = p.line()
    assert line.startswith("plan: denoise 3000x2000, ") and " tiles of up to " in line and "--time-limit" in line
    again = plan_restoration(problem, device="cpu", threads=1)  # the speed is kept: no second probe
    assert len(probes) == 1 and again.cached and again.high == p.high


def test_without_an_automatic_stop_the_estimate_is_the_cap(monkeypatch):
    monkeypatch.setattr(plan_module, "_probe", lambda *a: (0.01, 0.2))
    problem = build_problem("denoise", [np.full((40, 50, 1), 0.5, np.float32)], {"sigma": 25})
    p = plan_restoration(problem, device="cpu", stop="none", num_iter=100)
    assert p.tiles == 0 and p.probe == 50 and p.low == p.high == pytest.approx(0.2 + 0.01 * 40 * 50 / 50**2 * 100)
    assert "whole, at most 100 iterations" in p.line() and "no automatic stop" in p.line()


def test_the_probe_times_the_real_network_on_a_small_image():
    problem = build_problem("denoise", [np.random.default_rng(1).random((24, 20, 3)).astype(np.float32)],
                            {"sigma": 25})
    p = plan_restoration(problem, device="cpu", threads=1, num_iter=50)
    assert p.seconds_per_iteration is not None and 0 < p.seconds_per_iteration < 5
    short = plan_restoration(problem, device="cpu", threads=1, num_iter=plan_module.SHORT_FIT)
    assert short.high is None and "no time estimate (a fit of" in short.line()


def test_dry_run_prints_the_plan_and_fits_nothing(tmp_path, odd_rgb):
    src = tmp_path / "in.png"
    Image.fromarray(odd_rgb).save(src)
    out = tmp_path / "out.png"
    result = CliRunner().invoke(cli, ["denoise", str(src), "-o", str(out), "--dry-run", "--iters", "20",
                                      "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("plan: denoise 31x37, whole, at most 20 iterations"), result.output
    assert not out.exists()


def test_every_restore_command_says_its_plan_before_the_fit(tmp_path, odd_rgb):
    import subprocess
    import sys
    from pathlib import Path

    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(odd_rgb).save(src)
    run = subprocess.run([str(Path(sys.executable).parent / "deepprior"), "denoise", str(src), "-o", str(out),
                          "--iters", "5", "--threads", "1", "--tile", "16", "--overlap", "4"],
                         capture_output=True, text=True, check=True)
    lines = run.stderr.splitlines()
    plan_line = next(i for i, line in enumerate(lines) if line.startswith("plan: denoise 31x37, 6 tiles"))
    assert plan_line < next(i for i, line in enumerate(lines) if line.startswith("tiles: "))


def test_the_report_keeps_the_estimate_said_before_the_fit(tmp_path, odd_rgb):
    import json
    import subprocess
    import sys
    from pathlib import Path

    src, out, report = tmp_path / "in.png", tmp_path / "out.png", tmp_path / "r.json"
    Image.fromarray(odd_rgb).save(src)
    subprocess.run([str(Path(sys.executable).parent / "deepprior"), "denoise", str(src), "-o", str(out),
                    "--iters", "20", "--threads", "1", "--report", str(report)], capture_output=True, check=True)
    estimate = json.loads(report.read_text())["config"]["estimate"]
    assert estimate["high_s"] > 0 and estimate["probe"] == 37 and estimate["low_s"] <= estimate["high_s"]
