"""Everything is checked before a fit (issue #19): output formats and figure paths, value ranges, options that
would be ignored, the pixel-count limit and multi-frame files, batches that skip their bad files.

Most tests replace the fit by an exception, so a refusal is shown to come before any fitting at all.
"""

from __future__ import annotations

import math

import click
import numpy as np
import pytest
from PIL import Image

import deepprior
from deepprior import io
from deepprior.cli import cli
from deepprior.device import available_cores
from deepprior.errors import ConfigError, DeepPriorError, InputError
from deepprior.fit.seeding import generator_seed


class FitStarted(Exception):
    """Raised instead of fitting: the checks let the run through to the fit."""


@pytest.fixture
def no_fit(monkeypatch):
    def refuse(self):
        raise FitStarted

    monkeypatch.setattr("deepprior.fit.loop.Fitter.run", refuse)


@pytest.fixture
def files(tmp_path, odd_rgb):
    rgb = tmp_path / "rgb.png"
    Image.fromarray(odd_rgb).save(rgb)
    grey = tmp_path / "grey.png"
    Image.fromarray(odd_rgb[:, :, 0]).save(grey)
    alpha = np.full(odd_rgb.shape[:2], 255, np.uint8)
    alpha[5:12, 4:9] = 0
    rgba = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([odd_rgb, alpha])).save(rgba)
    la = tmp_path / "la.png"
    Image.fromarray(np.dstack([odd_rgb[:, :, 0], alpha]), mode="LA").save(la)
    deep = tmp_path / "deep.png"
    io.save_image(deep, odd_rgb.astype(np.uint16) * 257)
    white = tmp_path / "white.png"
    Image.fromarray(np.full(odd_rgb.shape[:2], 255, np.uint8)).save(white)
    return {"rgb": rgb, "grey": grey, "rgba": rgba, "la": la, "deep": deep, "white": white, "dir": tmp_path}


def one_line_error(result, code=(1, 2)):
    """The run ended with a one-line error (exit 1 or 2), not a traceback and not a fit."""
    assert not isinstance(result.exception, FitStarted), "the fit started"
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error:"), result.output
    return lines[-1]


# -- outputs: formats and folders, before the fit --------------------------------------------------------------

@pytest.mark.parametrize(
    ("image", "out", "message"),
    [
        ("deep", "o.jpg", "16-bit"),
        ("deep", "o.webp", "16-bit"),
        ("rgba", "o.jpg", "alpha"),
        ("la", "o.jpg", "alpha"),
        ("la", "o.bmp", "alpha"),
        ("grey", "o.webp", "grey"),
        ("rgb", "o", "unknown image format (none)"),
        ("rgb", "o.xyz", "unknown image format .xyz"),
        ("rgb", "nowhere/o.png", "does not exist"),
    ],
)
def test_an_output_that_cannot_hold_the_image_is_refused_before_the_fit(runner, files, no_fit, image, out, message):
    argv = ["denoise", str(files[image]), "-o", str(files["dir"] / out), "--iters", "3"]
    assert message in one_line_error(runner.invoke(cli, argv))


@pytest.mark.parametrize("command", ["denoise", "degrade"])
def test_an_empty_output_path_is_refused(runner, files, no_fit, command):
    # `-o ""` once wrote ./<stem>.png into the current folder
    result = runner.invoke(cli, [command, str(files["rgb"]), "-o", "", "--sigma", "25"])
    assert "output path is empty" in one_line_error(result)


def test_the_output_check_follows_what_the_task_makes_of_the_alpha(runner, files, no_fit):
    # inpainting from the alpha channel returns an opaque image: JPEG can hold it, so the fit starts
    result = runner.invoke(cli, ["inpaint", str(files["rgba"]), "-o", str(files["dir"] / "o.jpg"), "--iters", "3"])
    assert isinstance(result.exception, FitStarted)


def test_the_api_checks_its_output_setting_and_save_uses_it(files, odd_rgb, no_fit):
    rgba = np.dstack([odd_rgb, np.full(odd_rgb.shape[:2], 200, np.uint8)])
    with pytest.raises(InputError, match="alpha"):
        deepprior.denoise(rgba, num_iter=2, output=files["dir"] / "o.jpg")
    with pytest.raises(InputError, match="16-bit"):
        deepprior.denoise(odd_rgb.astype(np.uint16) * 257, num_iter=2, output=files["dir"] / "o.bmp")


def test_restoration_save_defaults_to_the_output_setting(tmp_path, odd_rgb):
    r = deepprior.denoise(odd_rgb[:16, :16], num_iter=2, output=tmp_path / "o.png")
    assert r.save() == tmp_path / "o.png" and io.load_image(tmp_path / "o.png").size_text == "16x16"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--curves", "{dir}/nowhere/c.png"], "curves folder"),
        (["--curves", "{dir}/c.xyz"], "unknown figure format .xyz"),
        (["--compare", "{dir}/c"], "unknown figure format (none)"),
        (["--animation", "{dir}/a.avi"], "expected a .gif or .mp4"),
        (["--animation", "{dir}/nowhere/a.gif"], "animation folder"),
        (["--report", "{dir}/nowhere/r.json"], "report folder"),
        (["--snapshots", "2", "--snapshot-dir", "{dir}/nowhere/deeper"], "snapshot folder"),
    ],
)
def test_figure_report_and_snapshot_paths_are_checked_before_the_fit(runner, files, no_fit, args, message):
    argv = ["denoise", str(files["rgb"]), "-o", str(files["dir"] / "o.png"), "--iters", "3",
            *(a.format(dir=files["dir"]) for a in args)]
    assert message in one_line_error(runner.invoke(cli, argv))


# -- value ranges ---------------------------------------------------------------------------------------------

HOSTILE = [
    (["--lr", "inf"], "not a finite number"),
    (["--lr", "nan"], "not a finite number"),
    (["--lr", "0"], "--lr"),
    (["--time-limit", "inf"], "not a finite number"),
    (["--time-limit", "nan"], "not a finite number"),
    (["--sigma", "inf"], "not a finite number"),
    (["--sigma", "nan"], "not a finite number"),
    (["--peak", "inf"], "not a finite number"),
    (["--amount", "nan"], "not a finite number"),
    (["--max-memory", "inf"], "memory size 'inf'"),
    (["--max-memory", "nan"], "memory size 'nan'"),
    (["--max-memory", "-4GB"], "memory size '-4GB'"),
    (["--max-memory", "0"], "memory size '0'"),
    (["--max-memory", "1e400GB"], "memory size"),
    (["--threads", "100000"], "more than the"),
    (["--threads", "99999999999999999999999"], "more than the"),
    (["--tile", str(10**30)], "--tile"),
    (["--tile", "5"], "tile 5"),  # 0 means untiled; 1-7 are too small
    (["--overlap", "-1"], "--overlap"),
    (["--overlap", str(10**30)], "--overlap"),
    (["--iters", "0"], "0 is not in the range 1<="),
    (["--iters", "1e30"], "--iters"),
    (["--iters", str(10**30)], "--iters"),
    (["--seed", "99999999999999999999999"], "2**63 - 1"),
    (["--seed", str(2**63)], "2**63 - 1"),
    (["--seed", "-1"], "--seed"),
    (["--max-pixels", "0"], "--max-pixels"),
    (["--snapshots", ""], "names no iteration"),
    (["--snapshots", ","], "names no iteration"),
    (["--snapshots", "x"], "not a comma-separated list"),
]


@pytest.mark.parametrize(("args", "message"), HOSTILE)
def test_hostile_values_get_one_line_before_the_fit(runner, files, no_fit, args, message):
    argv = ["denoise", str(files["rgb"]), "-o", str(files["dir"] / "o.png"), *args]
    assert message in one_line_error(runner.invoke(cli, argv))


def test_the_thread_limit_names_the_count_and_the_cores(runner, files, no_fit):
    cores = available_cores()
    argv = ["denoise", str(files["rgb"]), "-o", str(files["dir"] / "o.png"), "--threads", str(cores + 1)]
    line = one_line_error(runner.invoke(cli, argv))
    assert f"threads {cores + 1}" in line and f"{cores} cores" in line


def _cli_options():
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        if name in ("bench", "demo", "nets", "serve") or command is None:  # serve: tests/test_web.py
            continue
        for p in command.params:
            if isinstance(p, click.Option) and not p.is_flag and p.name != "output":
                yield name, next(o for o in p.opts if o.startswith("--"))


def test_no_option_of_any_command_gives_a_traceback(runner, files, no_fit):
    """Every option of every restoration command and degrade, with hostile values: a one-line error, or a
    run that reaches the fit (the value is valid), never a traceback."""
    d = files["dir"]
    mask = d / "mask.png"
    known = np.full((37, 31), 255, np.uint8)
    known[4:9, 4:9] = 0
    Image.fromarray(known).save(mask)
    lead = {"denoise": [str(files["rgb"])], "inpaint": [str(files["rgb"]), "--mask", str(mask)],
            "super-resolve": [str(files["rgb"]), "--scale", "2"], "jpeg": [str(files["rgb"])],
            "flash-no-flash": [str(files["rgb"]), str(files["rgb"])],
            "deblur": [str(files["rgb"]), "--kernel", "box:3"], "degrade": [str(files["rgb"]), "--sigma", "5"]}
    values = ["inf", "-inf", "nan", "-1", "0", "1e400", "99999999999999999999999", "", "abc", "1,,2"]
    kernels = ["gaussian:inf", "gaussian:nan", "motion:1e30,nan", "box:0", "box:99999999999999", "none.png"]
    tried = 0
    for name, flag in _cli_options():
        for value in values + (kernels if flag in ("--kernel", "--blur") else []):
            argv = [name, *lead[name], "-o", str(d / "o.png"), flag, value]
            result = runner.invoke(cli, argv)
            tried += 1
            if result.exception is None or isinstance(result.exception, FitStarted):
                continue
            one_line_error(result)
    assert tried > 500


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"lr": math.inf}, ConfigError, "learning rate"),
        ({"lr": math.nan}, ConfigError, "learning rate"),
        ({"time_limit": math.inf}, ConfigError, "time limit"),
        ({"threads": 10**6}, ConfigError, "cores available"),
        ({"threads": 10**30}, ConfigError, "cores available"),
        ({"seed": 2**63}, ConfigError, "2\\*\\*63 - 1"),
        ({"seed": 2**70}, ConfigError, "2\\*\\*63 - 1"),
        ({"num_iter": 0}, ConfigError, "must be >= 1"),
        ({"num_iter": 10**30}, ConfigError, "iterations"),
        ({"tile": 10**30}, ConfigError, "tile"),
        ({"overlap": -1}, ConfigError, "overlap"),
        ({"max_memory": "inf"}, ConfigError, "memory size"),
        ({"max_memory": -1}, ConfigError, "memory size"),
        ({"max_pixels": 0}, ConfigError, "max_pixels"),
        ({"preset": ""}, ConfigError, "preset ''"),
        ({"net": ""}, ConfigError, "net ''"),
        ({"sigma": math.inf}, ConfigError, "--sigma"),
        ({"peak": math.nan}, ConfigError, "--peak"),
        ({"amount": 2.0}, ConfigError, "--amount"),
        ({"snapshots": []}, ConfigError, "names no iteration"),
        ({"snapshots": "10", "num_iter": 5}, ConfigError, "snapshot iteration 10 is beyond the iteration cap 5"),
        ({"snapshot_dir": "s"}, ConfigError, "needs --snapshots"),
        ({"work_dir": "w"}, ConfigError, "--work-dir is only used when tiling"),
        ({"resume": True}, ConfigError, "--resume needs --work-dir"),
        ({"curves": "c.xyz"}, ConfigError, "unknown figure format"),
    ],
)
def test_the_api_gets_the_same_checks(odd_rgb, no_fit, options, error, message):
    with pytest.raises(error, match=message):
        deepprior.denoise(odd_rgb, **{"num_iter": 3, **options})


def test_degrade_checks_its_ranges_in_the_api(odd_rgb):
    for options in ({"sigma": math.inf}, {"drop": 1.0}, {"peak": -1}, {"downscale": 0}):
        with pytest.raises(ConfigError):
            deepprior.degrade(odd_rgb, **options)
    with pytest.raises(ConfigError, match="2\\*\\*63 - 1"):
        deepprior.degrade(odd_rgb, sigma=5, seed=2**64)


# -- seeds ----------------------------------------------------------------------------------------------------

def test_generator_seeds_below_32_bits_are_unchanged_and_larger_ones_do_not_wrap():
    assert [generator_seed(s) for s in (0, 1, 2**32 - 1)] == [0, 1, 2**32 - 1]
    for s in (0, 7, 2**31, 2**32 - 1):
        for big in (s + 2**32, s + 2**40, s + 2**62):
            assert generator_seed(big) % 2**32 != s  # PyTorch's CPU generator keeps the low 32 bits
    assert len({generator_seed(2**32 + i) % 2**32 for i in range(1000)}) == 1000


def test_seeds_beyond_32_bits_give_different_fits():
    image = np.random.default_rng(1).integers(0, 256, (16, 16), dtype=np.uint8)

    def fit(seed):
        return deepprior.denoise(image, num_iter=5, seed=seed, net="skip", preset="fast", stop="none").image.pixels

    a, again, b = fit(5), fit(5), fit(5 + 2**32)
    np.testing.assert_array_equal(a, again)
    assert not np.array_equal(a, b)
    assert fit(2**63 - 1).shape == a.shape


# -- silently ignored, now refused --------------------------------------------------------------------------

def test_an_all_white_mask_is_refused(runner, files, odd_rgb, no_fit):
    argv = ["inpaint", str(files["rgb"]), "--mask", str(files["white"]), "-o", str(files["dir"] / "o.png")]
    assert "nothing to fill" in one_line_error(runner.invoke(cli, argv))
    with pytest.raises(InputError, match="nothing to fill"):
        deepprior.inpaint(odd_rgb, mask=np.ones(odd_rgb.shape[:2], bool), num_iter=3)


def test_work_dir_without_tiling_is_refused_but_with_tiles_runs(runner, files, no_fit):
    base = ["denoise", str(files["rgb"]), "-o", str(files["dir"] / "o.png"), "--work-dir", str(files["dir"] / "w")]
    assert "pass --tile" in one_line_error(runner.invoke(cli, base))
    assert isinstance(runner.invoke(cli, [*base, "--tile", "16", "--overlap", "4"]).exception, FitStarted)


# -- the pixel-count limit and multi-frame files ------------------------------------------------------------

@pytest.fixture
def bomb(tmp_path):
    """A 13000x13000 1-bit PNG of a few kilobytes."""
    path = tmp_path / "bomb.png"
    Image.new("1", (13000, 13000)).save(path, optimize=True)
    assert path.stat().st_size < 100_000
    return path


def test_a_huge_image_is_refused_from_its_header(runner, bomb, tmp_path, monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    line = one_line_error(runner.invoke(cli, ["denoise", str(bomb), "-o", str(tmp_path / "o.png")]))
    assert "13000x13000 (169.0 megapixels)" in line and "limit of 100 megapixels" in line
    assert "hours" in line and "--max-pixels" in line
    with pytest.raises(InputError, match="169.0 megapixels"):
        deepprior.denoise(bomb, num_iter=1)


def test_max_pixels_changes_the_limit_everywhere(runner, files, odd_rgb, no_fit):
    argv = ["denoise", str(files["rgb"]), "-o", str(files["dir"] / "o.png"), "--max-pixels", "1000"]
    assert "31x37 (0.0 megapixels)" in one_line_error(runner.invoke(cli, argv))
    for source in (odd_rgb, files["rgb"], Image.fromarray(odd_rgb), io.load_image(odd_rgb)):
        with pytest.raises(InputError, match="over the limit"):
            deepprior.denoise(source, max_pixels=1000, num_iter=1)
    with pytest.raises(InputError, match="super-resolve output is 62x74"):  # the output counts too
        deepprior.super_resolve(odd_rgb, scale=2, max_pixels=2000, num_iter=1)
    with pytest.raises(FitStarted):
        deepprior.denoise(files["rgb"], max_pixels=1147, num_iter=1)


def test_pillows_own_limit_does_not_get_in_the_way(tmp_path, odd_rgb, monkeypatch):
    path = tmp_path / "a.png"
    Image.fromarray(odd_rgb).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow would raise a DecompressionBombError
    assert io.load_image(path).size_text == "31x37"
    assert Image.MAX_IMAGE_PIXELS == 100


@pytest.mark.parametrize("suffix", [".gif", ".tif", ".png", ".webp"])
def test_multi_frame_files_are_refused_alike(tmp_path, runner, suffix):
    frames = [Image.fromarray(np.full((20, 24), v, np.uint8)) for v in (0, 100, 200)]
    path = tmp_path / f"anim{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(InputError, match="has 3 frames; deepprior restores single images"):
        io.load_image(path)
    line = one_line_error(runner.invoke(cli, ["denoise", str(path), "-o", str(tmp_path / "o.png")]))
    assert "3 frames" in line
    frames[0].save(tmp_path / f"one{suffix}")
    assert io.load_image(tmp_path / f"one{suffix}").size_text == "24x20"


def test_a_mask_or_reference_of_another_size_is_refused_from_its_header(tmp_path, odd_rgb, bomb, no_fit):
    with pytest.raises(InputError, match="mask is 13000x13000 but the image is 31x37"):
        deepprior.inpaint(odd_rgb, mask=bomb, num_iter=1)
    with pytest.raises(InputError, match="reference is 13000x13000"):
        deepprior.denoise(odd_rgb, reference=bomb, num_iter=1)


# -- batches ---------------------------------------------------------------------------------------------------

def test_a_batch_skips_its_bad_files_fits_the_rest_and_exits_1(runner, files, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = files["rgb"].read_bytes()
    (src / "a.png").write_bytes(good)
    (src / "b.png").write_bytes(good[: len(good) // 3])  # truncated
    big = np.zeros((40, 40), np.uint8)
    Image.fromarray(big).save(src / "c.png")  # over --max-pixels 1500
    frames = [Image.fromarray(np.full((20, 24), v, np.uint8)) for v in (0, 200)]
    frames[0].save(src / "d.tif", save_all=True, append_images=frames[1:])
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(src / "e.png")  # too small: found by the task, skipped too
    (src / "f.png").write_bytes(good)
    dst = tmp_path / "out"
    dst.mkdir()
    result = runner.invoke(cli, ["denoise", str(src), "-o", str(dst), "--iters", "1", "-q", "--max-pixels", "1500"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert sorted(p.name for p in dst.iterdir()) == ["a.png", "f.png"]
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped")]
    # the header check finds c and d before any fit; b (truncated past its header) and e when they are read
    assert [s.split(":")[0].rsplit("/", 1)[-1] for s in skipped] == ["c.png", "d.tif", "b.png", "e.png"]
    assert "cannot read image" in skipped[2] and "at least 8x8" in skipped[3]
    assert "restored 2 of 6 files; 4 failed" in result.output.strip().splitlines()[-1]


def test_a_batch_checks_every_file_before_the_first_fit(runner, files, tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.png").write_bytes(files["rgb"].read_bytes())
    (src / "z.png").write_bytes(b"not an image")
    seen = []

    def record(self):
        seen.append(self)
        raise FitStarted

    monkeypatch.setattr("deepprior.fit.loop.Fitter.run", record)
    result = runner.invoke(cli, ["denoise", str(src), "-o", str(tmp_path), "--iters", "1", "-q"])
    assert "skipped" in result.output and "z.png" in result.output  # reported before a.png's fit began
    assert isinstance(result.exception, FitStarted) and len(seen) == 1


def test_a_single_bad_input_still_stops_with_its_own_message(runner, files, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    line = one_line_error(runner.invoke(cli, ["denoise", str(bad), "-o", str(tmp_path / "o.png")]))
    assert "cannot read image" in line


def test_every_refusal_is_a_deepprior_error(odd_rgb, no_fit):
    """What the API raises on bad settings is catchable as one type (the CLI prints it as one line)."""
    for options in ({"lr": -1.0}, {"seed": -1}, {"threads": 0}, {"max_memory": "lots"}):
        with pytest.raises(DeepPriorError):
            deepprior.denoise(odd_rgb, num_iter=2, **options)


@pytest.mark.parametrize("key", ["device", "precision", "stop"])
def test_api_names_of_another_type_are_refused_in_one_line(key):
    # found by the long fuzz run: device=0 reached resolve_device and raised a raw AttributeError
    import deepprior
    from deepprior.errors import ConfigError

    with pytest.raises(ConfigError, match=f"{key} 0 is invalid"):
        deepprior.denoise(np.zeros((8, 8), np.uint8), num_iter=1, **{key: 0})


@pytest.mark.parametrize("key", ["device", "precision", "stop", "seed", "overlap", "callbacks", "resume", "quiet"])
def test_api_setting_none_means_its_default(key):
    # long fuzz run: device=None reached resolve_device and raised AttributeError
    from deepprior.restore.settings import DEFAULTS, RunSettings

    assert RunSettings.from_flat({key: None}).flat()[key] == DEFAULTS[key]
    r = deepprior.denoise(np.zeros((8, 8, 3), np.uint8), sigma=25, num_iter=2, **{key: None})
    assert r.image.pixels.shape == (8, 8, 3)
