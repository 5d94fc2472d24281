"""What a tiled run does with a damaged or foreign work folder, and what an interrupted one leaves behind."""

from __future__ import annotations

import io as _bytesio
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import deepprior
from deepprior import io
from deepprior.cli import cli
from deepprior.errors import ConfigError
from deepprior.fit.loop import Callback, StepState
from deepprior.restore import run as run_module

TILED = {"device": "cpu", "num_iter": 3, "tile": 16, "overlap": 4, "threads": 1}  # 37x31: 6 tiles


def _npy(array: np.ndarray) -> bytes:
    buffer = _bytesio.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_damaged_or_foreign_tile_files_are_named_and_recomputed(tmp_path, odd_rgb, caplog):
    ref = deepprior.denoise(odd_rgb, work_dir=tmp_path / "a", **TILED)
    work = tmp_path / "b"
    deepprior.denoise(odd_rgb, work_dir=work, **TILED)

    def tile(i):
        return work / f"tile_{i:05d}.npy"

    good = tile(0).read_bytes()
    tile(0).write_bytes(good[: len(good) // 2])  # truncated
    tile(1).write_bytes(os.urandom(len(good)))  # garbage
    tile(2).write_bytes(_npy(np.zeros((5, 5, 3), np.float32)))  # another size
    tile(3).write_bytes(_npy(np.full((16, 20, 3), 7.0)))  # not pixels on [0, 1]
    tile(4).with_suffix(".json").write_text("{not json")  # a damaged summary
    caplog.clear()
    with caplog.at_level("WARNING", logger="deepprior"):  # the library logs its warnings
        resumed = deepprior.denoise(odd_rgb, work_dir=work, resume=True, **TILED)
    err = caplog.text
    for i in range(5):
        named = tile(i).with_suffix(".json") if i == 4 else tile(i)
        assert f"work folder file {named} " in err and f"recomputing tile {i}" in err, err
    assert "tile_00005" not in err
    np.testing.assert_array_equal(resumed.image.pixels, ref.image.pixels)
    caplog.clear()
    deepprior.denoise(odd_rgb, work_dir=work, resume=True, **TILED)  # the recomputed tiles were saved again
    assert "warning" not in caplog.text


def test_a_folder_not_of_this_job_is_refused_before_any_fit(tmp_path, odd_rgb):
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "tile_00000.npy").write_bytes(_npy(np.zeros((16, 20, 3), np.float32)))
    with pytest.raises(ConfigError, match="no manifest.json"):
        deepprior.denoise(odd_rgb, work_dir=stray, resume=True, **TILED)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "manifest.json").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(ConfigError, match="manifest.json is damaged"):
        deepprior.denoise(odd_rgb, work_dir=damaged, resume=True, **TILED)
    (damaged / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a deepprior manifest"):
        deepprior.denoise(odd_rgb, work_dir=damaged, resume=True, **TILED)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        deepprior.denoise(odd_rgb, work_dir=tmp_path / "file", **TILED)


def test_cli_names_a_damaged_tile_and_refuses_another_images_folder(tmp_path, odd_rgb):
    src, other = tmp_path / "in.png", tmp_path / "other.png"
    Image.fromarray(odd_rgb).save(src)
    Image.fromarray(np.ascontiguousarray(odd_rgb[::-1])).save(other)
    work = tmp_path / "w"
    args = ["--iters", "3", "--tile", "16", "--overlap", "4", "-q", "--device", "cpu", "--threads", "1",
            "--work-dir", str(work)]
    runner = CliRunner()
    assert runner.invoke(cli, ["denoise", str(src), "-o", str(tmp_path / "o.png"), *args]).exit_code == 0
    (work / "tile_00002.npy").write_bytes(b"\x93NUMPY garbage")
    quiet = runner.invoke(cli, ["denoise", str(src), "-o", str(tmp_path / "o.png"), *args, "--resume"])
    assert quiet.exit_code == 0 and quiet.output == ""  # -q: errors only
    (work / "tile_00002.npy").write_bytes(b"\x93NUMPY garbage")
    result = runner.invoke(cli, ["denoise", str(src), "-o", str(tmp_path / "o.png"), *args, "--resume",
                                 "--log-level", "warning"])  # -q with a level: the level wins
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert "tile_00002.npy is damaged" in result.output and "recomputing tile 2" in result.output
    result = runner.invoke(cli, ["denoise", str(other), "-o", str(tmp_path / "p.png"), *args, "--resume"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith(f"Error: work folder {work} belongs to another job")


class _InterruptAt(Callback):
    def on_step(self, state: StepState) -> None:
        if state.iteration == 2:
            raise KeyboardInterrupt  # what the CLI makes of SIGTERM


def _interrupt_third_tile(monkeypatch):
    original, calls = run_module.fit_problem, []

    def fit(problem, rs, *, seed, callbacks, reference):
        calls.append(seed)
        extra = [_InterruptAt()] if len(calls) == 3 else []
        return original(problem, rs, seed=seed, callbacks=[*callbacks, *extra], reference=reference)

    monkeypatch.setattr(run_module, "fit_problem", fit)


def test_an_interrupted_tiled_run_returns_what_it_has_and_names_the_rest(tmp_path, odd_rgb, monkeypatch, caplog):
    ref = deepprior.denoise(odd_rgb, **TILED)
    _interrupt_third_tile(monkeypatch)
    with caplog.at_level("WARNING", logger="deepprior"):
        partial = deepprior.denoise(odd_rgb, work_dir=tmp_path / "w", **TILED)
    monkeypatch.undo()
    tiling = partial.report()["config"]["tiling"]
    assert partial.fit.stop_reason == "interrupted"
    assert tiling["unrestored"] == [2, 3, 4, 5]
    assert [(m["index"], m["stop_reason"]) for m in tiling["tiles"]] == [(0, "max_iter"), (1, "max_iter"),
                                                                         (2, "interrupted")]
    err = caplog.text
    assert "4 of 6 tiles unrestored (2, 3, 4, 5), shown tile 2 at its partial fit" in err and "--resume" in err
    assert sorted(p.name for p in (tmp_path / "w").glob("tile_*.npy")) == ["tile_00000.npy", "tile_00001.npy"]
    # the finished tiles as in a full run; where only unstarted tiles reach, the input as given
    np.testing.assert_array_equal(partial.image.pixels[:8, :12], ref.image.pixels[:8, :12])
    np.testing.assert_allclose(partial.image.pixels[29:, 16:], odd_rgb[29:, 16:] / 255.0, atol=0.5 / 255)
    resumed = deepprior.denoise(odd_rgb, work_dir=tmp_path / "w", resume=True, **TILED)
    np.testing.assert_array_equal(resumed.image.pixels, ref.image.pixels)


def test_cli_interrupted_tiled_run_writes_image_report_and_says_how_to_resume(tmp_path, odd_rgb, monkeypatch):
    src, out, rep, work = tmp_path / "in.png", tmp_path / "o.png", tmp_path / "r.json", tmp_path / "w"
    Image.fromarray(odd_rgb).save(src)
    _interrupt_third_tile(monkeypatch)
    result = CliRunner().invoke(cli, ["denoise", str(src), "-o", str(out), "--iters", "3", "--tile", "16",
                                      "--overlap", "4", "-q", "--device", "cpu", "--threads", "1",
                                      "--work-dir", str(work), "--report", str(rep)])
    assert result.exit_code == 130 and "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]
    assert last == (f"interrupted: saved the image with 4 of 6 tiles unrestored to {out} and the report to {rep}; "
                    f"finish it with --work-dir {work} --resume")
    assert json.loads(rep.read_text())["config"]["tiling"]["unrestored"] == [2, 3, 4, 5]
    assert io.load_image(out).size_text == "31x37"


def test_sigterm_during_a_tiled_run(tmp_path, odd_rgb):
    src, out, rep, work = tmp_path / "in.png", tmp_path / "o.png", tmp_path / "r.json", tmp_path / "w"
    Image.fromarray(np.tile(odd_rgb, (2, 2, 1))).save(src)  # 74x62: 20 tiles
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepprior.cli", "denoise", str(src), "-o", str(out), "--iters", "30", "--tile", "16",
         "--overlap", "4", "-q", "--device", "cpu", "--threads", "1", "--work-dir", str(work), "--report", str(rep)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.time() + 120
    while len(list(work.glob("tile_*.npy"))) < 2:
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 143, text
    assert "Traceback" not in text and "tiles unrestored" in text and "--resume" in text
    unrestored = json.loads(rep.read_text())["config"]["tiling"]["unrestored"]
    assert unrestored and len(list(work.glob("tile_*.npy"))) == 20 - len(unrestored)
    assert io.load_image(out).size_text == "62x74"


def test_a_set_cancel_flag_ends_a_tiled_run_between_tiles(odd_rgb):
    import threading

    from deepprior.errors import ConfigError as _ConfigError

    flag = threading.Event()
    flag.set()  # set before the first tile: no tile is fitted, the input comes back as given
    r = deepprior.denoise(odd_rgb, cancel=flag, **TILED)
    assert r.fit.stop_reason == "interrupted"
    assert len(r.config["tiling"]["unrestored"]) == 6
    with pytest.raises(_ConfigError, match="cancel"):
        deepprior.denoise(odd_rgb, cancel="yes", **TILED)
