from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from skimage import data

from deepprior.bench import BenchConfig, run_table, to_markdown
from deepprior.benchdata import score
from deepprior.cli import cli
from deepprior.errors import ConfigError, InputError
from deepprior.tasks.denoise import DENOISE_IMAGES
from deepprior.tasks.inpaint import PIXEL_IMAGES


def _save(path, a):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    """A miniature copy of the dip-paper tree, made from scikit-image's images."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    photo = data.astronaut()[100:148, 180:228]
    grey = data.camera()[200:248, 200:248]
    for name in DENOISE_IMAGES[:2]:
        d = root / "dip-paper" / "denoising"
        _save(d / "sigma25" / f"{name}_GT.png", photo)
        for s in (25, 50):
            noisy = np.clip(photo + rng.normal(0, s, photo.shape), 0, 255).astype(np.uint8)
            _save(d / f"sigma{s}" / f"{name}_noisy.png", noisy)
            _save(d / f"sigma{s}" / f"{name}_deep_prior.png", photo)
    for name in PIXEL_IMAGES[:2]:
        d = root / "dip-paper" / "pixels50"
        keep = rng.random(grey.shape) > 0.5
        _save(d / f"{name}_GT.png", grey)
        _save(d / f"{name}_masked.png", np.where(keep, np.maximum(grey, 1), 0).astype(np.uint8))
        _save(d / f"{name}_deep_prior.png", grey)
    hr = data.chelsea()[:64, :64]
    for s in ("Set5", "Set14"):
        _save(root / "dip-paper" / "sr" / s / "x4" / f"img{s}_GT.png", hr)
    return root


def test_quick_denoise_table_scores_everything_alike(fake_data):
    res = run_table(BenchConfig(table="denoise", data=fake_data, quick=True, sigmas=(25,)), echo=lambda s: None)
    assert len(res["rows"]) == 2
    row = res["rows"][0]
    for method in ("input", "deepprior", "tv", "nlm", "wavelet", "published DIP"):
        assert method in row
    # The published file here *is* the ground truth: the shared scorer must say so.
    assert row["published DIP"]["psnr"] == float("inf")
    assert row["deepprior"]["iterations"] == 20 and row["deepprior"]["stop"] == "fixed count"
    assert row["deepprior"]["oracle_psnr"] >= row["deepprior"]["history"][0]["psnr"]
    md = to_markdown(res)
    assert "oracle" in md and "crop 32" in md and "| **mean** |" in md
    assert res["meta"]["torch"] and "commit" in res["meta"]


def test_metadata_is_the_one_the_run_started_with(fake_data, monkeypatch):
    from deepprior.bench import harness

    calls, seen = [], []
    real = harness.metadata
    monkeypatch.setattr(harness, "metadata", lambda cfg: calls.append(1) or {**real(cfg), "commit": f"c{len(calls)}"})
    harness.run_table(BenchConfig(table="denoise", data=fake_data, quick=True, sigmas=(25,)), echo=lambda s: None,
                      on_row=lambda partial: seen.append(partial["meta"]))
    # a long run saved after every image must not relabel earlier rows with the code of a later commit
    assert len(calls) == 1 and [m["commit"] for m in seen] == ["c1", "c1"] and all("updated" in m for m in seen)


def test_images_option_selects_by_name(fake_data):
    from deepprior.benchdata import limit_names as _limit

    assert _limit(["a", "b", "c"], None, ("c", "a")) == ["a", "c"]  # the table's order
    assert _limit(["x/im1.png", "x/im2.png"], 1, ("im2",)) == ["x/im2.png"]
    res = run_table(BenchConfig(table="denoise", data=fake_data, quick=True, sigmas=(25,), images=("baboon",),
                                baselines=False), echo=lambda s: None)
    assert [r["image"] for r in res["rows"]] == ["baboon"]


def test_quick_pixels_and_sr_tables(fake_data):
    res = run_table(BenchConfig(table="pixels", data=fake_data, quick=True), echo=lambda s: None)
    assert {"input", "deepprior", "biharmonic", "published DIP"} <= set(res["rows"][0])
    sr = run_table(BenchConfig(table="sr", data=fake_data, quick=True, scales=(4,)), echo=lambda s: None)
    assert [r["group"] for r in sr["rows"]] == ["Set5 x4", "Set14 x4"]
    assert "bicubic" in sr["rows"][0] and sr["rows"][0]["size"] == [64, 64]


def test_folder_table(tmp_path):
    for i in range(2):
        _save(tmp_path / f"im{i}.png", data.astronaut()[i * 40 : i * 40 + 40, :40])
    res = run_table(BenchConfig(table="folder", folder=tmp_path, quick=True, noise="poisson", peak=30),
                    echo=lambda s: None)
    assert len(res["rows"]) == 2 and "PoissonNoise(peak=30)" in res["rows"][0]["group"]
    assert res["rows"][0]["deepprior"]["data_term"] == {"name": "poisson", "peak": 30}  # matched: the default
    terms = {}
    for setting in ("blind", "mse"):
        r = run_table(BenchConfig(table="folder", folder=tmp_path, quick=True, noise="poisson", peak=30, limit=1,
                                  setting=setting, baselines=False), echo=lambda s: None)
        terms[setting] = r["rows"][0]["deepprior"]["data_term"]["name"]
        assert setting in r["rows"][0]["group"]
    assert terms["mse"] == "mse" and terms["blind"] in ("mse", "nlf-weighted")
    with pytest.raises(ConfigError, match="unknown setting"):
        run_table(BenchConfig(table="folder", folder=tmp_path, quick=True, setting="oracle"), echo=lambda s: None)


def test_cli_bench_writes_json_markdown_plots(fake_data, tmp_path):
    out = CliRunner().invoke(cli, ["bench", "denoise", "--quick", "--data", str(fake_data), "--sigmas", "50",
                                   "--limit", "1", "--lr", "0.004", "--json", str(tmp_path / "r.json"),
                                   "--markdown", str(tmp_path / "r.md"), "--plots", str(tmp_path / "p")])
    assert out.exit_code == 0, out.output
    row = json.loads((tmp_path / "r.json").read_text())["rows"][0]
    assert row["group"] == "sigma50" and row["deepprior"]["lr"] == 0.004
    assert (tmp_path / "r.md").read_text().startswith("#### denoise")
    assert "lr 0.004" in (tmp_path / "r.md").read_text()
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["bars_sigma50.png", "curve_sigma50_F16.png"]


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DEEPPRIOR_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no benchmark data"):
        run_table(BenchConfig(table="denoise", quick=True), echo=lambda s: None)
    out = CliRunner().invoke(cli, ["bench", "pixels", "--data", str(tmp_path / "nope")])
    assert out.exit_code != 0 and "does not exist" in out.output


def test_sr_score_is_y_channel_with_border():
    from deepprior.benchdata import Case

    ref = np.zeros((32, 32, 3))
    est = ref.copy()
    est[:4] = 1.0  # differences only on the cropped border
    case = Case("x", "g", "super-resolve", ref[::4, ::4], ref, scale=4)
    assert score(case, est)["psnr"] == float("inf")


def test_speed_results_carry_the_harness_metadata():
    from deepprior.bench.speed import DEFAULT_CASES, time_cases

    result = time_cases(DEFAULT_CASES[:1], size=64, warmup=1, repeats=1, device="cpu", echo=lambda s: None)
    meta = result["meta"]
    assert {"commit", "dirty", "torch", "python", "cpu_count", "torch_threads", "date"} <= set(meta)
    assert meta["config"]["size"] == 64 and meta["config"]["cases"] == [DEFAULT_CASES[0].label]


def test_a_table_resumes_from_its_json_and_refuses_other_settings(fake_data, tmp_path):
    out = tmp_path / "pixels.json"
    args = ["bench", "pixels", "--quick", "--data", str(fake_data), "--no-baselines", "--json", str(out)]
    first = CliRunner().invoke(cli, [*args, "--limit", "1"])
    assert first.exit_code == 0, first.output
    one = json.loads(out.read_text())["rows"]
    assert len(one) == 1
    again = CliRunner().invoke(cli, [*args, "--resume"])  # the rest of the images, the first one kept
    assert again.exit_code == 0, again.output
    assert f"{one[0]['image']:<14} done in the earlier run: kept" in again.output
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) > 1 and rows[0] == one[0]
    other = CliRunner().invoke(cli, [*args, "--resume", "--seed", "1"])
    assert other.exit_code != 0 and "were run with seed 0, not 1" in other.output
    lone = CliRunner().invoke(cli, ["bench", "pixels", "--quick", "--data", str(fake_data), "--resume"])
    assert lone.exit_code != 0 and "--resume needs --json" in lone.output


def test_pixels_black_in_the_ground_truth_are_scored_apart(tmp_path):
    """A black pixel reads as missing from the masked file, kept or not: a second PSNR leaves those out."""
    from deepprior.tasks.inpaint import pixel_cases

    grey = np.maximum(data.camera()[200:232, 200:232], 1)
    grey[0] = 0  # a black first row, as peppers256's
    keep = np.random.default_rng(1).random(grey.shape) > 0.5
    d = tmp_path / "dip-paper" / "pixels50"
    _save(d / f"{PIXEL_IMAGES[0]}_GT.png", grey)
    _save(d / f"{PIXEL_IMAGES[0]}_masked.png", np.where(keep, grey, 0).astype(np.uint8))
    cfg = BenchConfig(table="pixels", data=tmp_path, limit=1)
    case = next(pixel_cases(cfg, tmp_path))
    assert case.ambiguous is not None and case.ambiguous.sum() == 32 and case.ambiguous[0].all()
    filled = case.reference.copy()
    filled[0] = 0.5  # right everywhere but on the black row, which the input cannot tell
    got = score(case, filled)
    assert got["psnr"] < 30 and got["psnr_unambiguous"] == float("inf")
    plain = score(dataclasses.replace(case, ambiguous=None), filled)
    assert "psnr_unambiguous" not in plain
