from __future__ import annotations

import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import deepprior
from deepprior.cli import cli
from deepprior.errors import ConfigError


def test_api_writes_curves_animation_compare(tmp_path, odd_rgb):
    noisy = deepprior.degrade(odd_rgb, sigma=25, seed=0).image
    r = deepprior.denoise(noisy, num_iter=12, reference=odd_rgb, curves=tmp_path / "c.png",
                          animation=tmp_path / "a.gif", compare=tmp_path / "cmp.png", snapshots="4,8",
                          snapshot_dir=tmp_path / "snaps")
    assert Image.open(tmp_path / "c.png").size[0] > 300
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == 3  # snapshots 4 and 8, then the returned image at 12
    assert Image.open(tmp_path / "cmp.png").size[0] > Image.open(tmp_path / "cmp.png").size[1]
    assert r.fit.iterations == 12


def test_cli_flags_and_default_frames(tmp_path, odd_rgb):
    src = tmp_path / "in.png"
    Image.fromarray(odd_rgb[:, :, 0]).save(src)
    out = CliRunner().invoke(cli, ["super-resolve", str(src), "--scale", "2", "-o", str(tmp_path / "o.png"),
                                   "--iters", "50", "-q", "--animation", str(tmp_path / "a.gif"),
                                   "--curves", str(tmp_path / "c.png"), "--compare", str(tmp_path / "x.png")])
    assert out.exit_code == 0, out.output
    assert Image.open(tmp_path / "a.gif").n_frames == 50  # every iteration up to 50
    assert (tmp_path / "c.png").exists() and (tmp_path / "x.png").exists()


def test_animation_format_is_checked_before_the_fit(odd_rgb):
    with pytest.raises(ConfigError, match=r"\.gif or \.mp4"):
        deepprior.denoise(odd_rgb, num_iter=1, animation="fit.avi")


def test_missing_matplotlib_is_a_clear_error_at_once(monkeypatch, odd_rgb, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"deepprior\[viz\]"):
        deepprior.denoise(odd_rgb, num_iter=10_000, curves=tmp_path / "c.png")
    out = CliRunner().invoke(cli, ["denoise", "-o", str(tmp_path / "o.png"), "--compare", str(tmp_path / "x.png"),
                                   "--iters", "10000", str(tmp_path / "missing.png")])
    assert out.exit_code != 0


def test_demo_writes_all_pictures(tmp_path):
    out = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--iters", "5", "-q"])
    assert out.exit_code == 0, out.output
    names = {p.name for p in (tmp_path / "d").iterdir()}
    assert {"clean.png", "noisy.png", "restored.png", "report.json", "curves.png", "fit.gif", "compare.png"} <= names
    assert "PSNR before" in out.output
    assert np.asarray(Image.open(tmp_path / "d" / "restored.png")).shape == (128, 128, 3)
