from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepprior import io
from deepprior.cli import cli


@pytest.fixture
def files(tmp_path, odd_rgb):
    clean = tmp_path / "clean.png"
    Image.fromarray(odd_rgb).save(clean)
    grey = tmp_path / "grey.png"
    Image.fromarray(odd_rgb[:, :, 0]).save(grey)
    rgba = tmp_path / "rgba.png"
    alpha = np.full(odd_rgb.shape[:2], 255, np.uint8)
    alpha[5:12, 4:9] = 0
    Image.fromarray(np.dstack([odd_rgb, alpha])).save(rgba)
    mask = tmp_path / "mask.png"
    Image.fromarray(((np.indices(odd_rgb.shape[:2]).sum(0) % 3) > 0).astype(np.uint8) * 255).save(mask)
    return {"clean": clean, "grey": grey, "rgba": rgba, "mask": mask, "dir": tmp_path}


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_version_and_help(runner):
    assert "deepprior, version" in ok(runner.invoke(cli, ["--version"])).output
    help_text = " ".join(ok(runner.invoke(cli, ["denoise", "--help"])).output.split())
    assert "Presets:" in help_text and "paper" in help_text and "[default: 0; x>=0]" in help_text


def test_nets_lists_parameter_counts(runner):
    out = ok(runner.invoke(cli, ["nets"])).output
    assert "skip" in out and "2,217,831" in out and "hourglass" in out


@pytest.mark.parametrize(
    "args",
    [["--sigma", "25"], ["--peak", "30"], ["--amount", "0.1"], ["--noise", "speckle", "--sigma", "0.2"],
     ["--downscale", "2"]],
)
def test_degrade_every_model(runner, files, args):
    out = files["dir"] / "d.png"
    ok(runner.invoke(cli, ["degrade", str(files["clean"]), "-o", str(out), "--seed", "3", *args]))
    assert io.load_image(out).pixels.shape[2] == 3


def test_degrade_drop_writes_mask(runner, files):
    out, m = files["dir"] / "d.png", files["dir"] / "m.png"
    ok(runner.invoke(cli, ["degrade", str(files["clean"]), "-o", str(out), "--drop", "0.5", "--mask-out", str(m)]))
    known = io.load_mask(m, height=37, width=31)
    assert 0.3 < known.mean() < 0.7


@pytest.mark.parametrize("mask_out", ["missing/m.png", "m.xyz", "m", "{clean}", "d.png"])
def test_degrade_refuses_a_bad_mask_out_before_writing(runner, files, mask_out):
    # found by the fuzz suite: the image was saved, then the mask failed, leaving half the output
    out = files["dir"] / "d.png"
    before = files["clean"].read_bytes()
    m = mask_out.format(clean=files["clean"]) if "{" in mask_out else str(files["dir"] / mask_out)
    r = runner.invoke(cli, ["degrade", str(files["clean"]), "-o", str(out), "--drop", "0.5", "--mask-out", m])
    assert r.exit_code == 1 and "mask-out" in r.output and not out.exists()
    assert files["clean"].read_bytes() == before


@pytest.mark.parametrize("image", ["clean", "grey", "rgba"])
def test_denoise_end_to_end(runner, files, image):
    out, rep = files["dir"] / "out.png", files["dir"] / "rep.json"
    r = ok(runner.invoke(cli, ["denoise", str(files[image]), "-o", str(out), "--iters", "3", "-q",
                               "--reference", str(files["clean"]), "--report", str(rep), "--snapshots", "2"]))
    assert r.output == ""
    report = json.loads(rep.read_text())
    assert report["iterations"] == 3 and report["stop_reason"] == "max_iter" and report["psnr"] is not None
    assert io.load_image(out).size_text == "31x37"
    assert (files["dir"] / "out_snapshots" / f"{files[image].stem}_000002.png").exists()


@pytest.mark.parametrize("image", ["clean", "grey", "rgba"])
def test_inpaint_with_mask(runner, files, image):
    out = files["dir"] / "inp.png"
    ok(runner.invoke(cli, ["inpaint", str(files[image]), "--mask", str(files["mask"]), "-o", str(out),
                           "--iters", "2", "-q"]))
    restored = io.load_image(out)
    assert restored.size_text == "31x37" and (restored.alpha is not None) == (image == "rgba")


def test_inpaint_from_alpha(runner, files):
    out = files["dir"] / "inp.png"
    ok(runner.invoke(cli, ["inpaint", str(files["rgba"]), "-o", str(out), "--iters", "2", "-q"]))
    assert io.load_image(out).alpha is None


@pytest.mark.parametrize("image", ["clean", "grey", "rgba"])
def test_super_resolve_end_to_end(runner, files, image):
    out = files["dir"] / "sr.png"
    ok(runner.invoke(cli, ["super-resolve", str(files[image]), "--scale", "2", "-o", str(out), "--iters", "2", "-q"]))
    restored = io.load_image(out)
    assert restored.size_text == "62x74" and restored.channels == (1 if image == "grey" else 3)


def test_folder_of_inputs(runner, files, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.png"):
        (src / name).write_bytes(files["clean"].read_bytes())
    dst = tmp_path / "outdir"
    dst.mkdir()
    rep = tmp_path / "all.json"
    ok(runner.invoke(cli, ["denoise", str(src), "-o", str(dst), "--iters", "1", "-q", "--report", str(rep)]))
    assert sorted(p.name for p in dst.iterdir()) == ["a.png", "b.png"]
    assert len(json.loads(rep.read_text())) == 2


def _error(result):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["denoise", "{dir}/missing.png", "-o", "{dir}/o.png"], "no such file"),
        (["denoise", "{dir}/truncated.png", "-o", "{dir}/o.png"], "cannot read image"),
        (["inpaint", "{clean}", "--mask", "{dir}/small.png", "-o", "{dir}/o.png"],
         "mask is 5x5 but the image is 31x37"),
        (["denoise", "{clean}", "--preset", "turbo", "-o", "{dir}/o.png"], "turbo"),
        (["super-resolve", "{clean}", "--scale", "0", "-o", "{dir}/o.png"], "'0' is not one of"),
        (["denoise", "{clean}", "--iters", "-5", "-o", "{dir}/o.png"], "-5"),
        (["denoise", "{clean}", "-o", "{dir}/nowhere/o.png"], "does not exist"),
        (["denoise", "{dir}/tiny.png", "-o", "{dir}/o.png"], "at least 8x8"),
        (["denoise", "{clean}", "-o", "{clean}"], "--overwrite"),
        (["denoise", "{clean}", "-o", "{dir}/o.xyz", "--iters", "1"], "unknown image format"),
        (["degrade", "{clean}", "-o", "{dir}/o.png"], "nothing to do"),
    ],
)
def test_bad_input_gets_one_line(runner, files, args, message):
    d = files["dir"]
    data = files["clean"].read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(d / "small.png")
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(d / "tiny.png")
    argv = [a.format(dir=d, clean=files["clean"]) for a in args]
    assert message in _error(runner.invoke(cli, argv))


def test_input_is_not_overwritten_without_flag(runner, files):
    before = files["clean"].read_bytes()
    runner.invoke(cli, ["denoise", str(files["clean"]), "-o", str(files["clean"]), "--iters", "1"])
    assert files["clean"].read_bytes() == before
    ok(runner.invoke(cli, ["denoise", str(files["clean"]), "-o", str(files["clean"]), "--iters", "1", "-q",
                           "--overwrite"]))


def test_sigterm_saves_image_and_report(files):
    out, rep, snaps = files["dir"] / "int.png", files["dir"] / "int.json", files["dir"] / "snaps"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepprior.cli", "denoise", str(files["clean"]), "-o", str(out), "--iters", "100000",
         "--report", str(rep), "--snapshots", "2", "--snapshot-dir", str(snaps), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    deadline = time.time() + 120
    while not any(Path(snaps).glob("*.png")):
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    assert "interrupted at iteration" in err.decode()
    report = json.loads(rep.read_text())
    assert report["stop_reason"] == "interrupted" and report["iterations"] >= 2
    assert io.load_image(out).size_text == "31x37"


def test_noise_jpeg_and_flash_commands(runner, files, tmp_path):
    out = tmp_path / "o.png"
    ok(runner.invoke(cli, ["denoise", str(files["clean"]), "-o", str(out), "--noise", "poisson", "--iters", "2",
                           "--report", str(tmp_path / "r.json")]))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["config"]["loss"]["name"] == "poisson" and report["config"]["noise"]["estimated"] is True
    bad = runner.invoke(cli, ["denoise", str(files["clean"]), "-o", str(out), "--noise", "gaussian", "--peak", "3"])
    assert bad.exit_code != 0 and "--peak does not apply" in bad.output
    jpg = tmp_path / "c.jpg"
    Image.open(files["clean"]).save(jpg, quality=15)
    ok(runner.invoke(cli, ["jpeg", str(jpg), "-o", str(tmp_path / "j.png"), "--iters", "2"]))
    assert io.load_image(tmp_path / "j.png").pixels.shape == io.load_image(jpg).pixels.shape
    flash = tmp_path / "flash.png"
    Image.fromarray(255 - np.asarray(Image.open(files["clean"]))).save(flash)
    ok(runner.invoke(cli, ["flash-no-flash", str(flash), str(files["clean"]), "-o", str(tmp_path / "f.png"),
                           "--iters", "2"]))
    assert (tmp_path / "f.png").exists()
    bad = runner.invoke(cli, ["flash-no-flash", str(flash), str(files["grey"]), "-o", str(tmp_path / "g.png"),
                              "--tile", "64"])
    assert bad.exit_code != 0 and "--tile is not available" in bad.output
    bad = runner.invoke(cli, ["flash-no-flash", str(flash), str(tmp_path / "missing.png"), "-o",
                              str(tmp_path / "g.png")])
    assert bad.exit_code != 0 and "missing.png" in bad.output


@pytest.mark.parametrize("net", sorted(__import__("deepprior.nets", fromlist=["NETWORKS"]).NETWORKS))
def test_every_network_runs_every_task_from_the_cli(runner, files, net):
    d = files["dir"]
    for args in (["denoise", str(files["clean"])], ["inpaint", str(files["clean"]), "--mask", str(files["mask"])],
                 ["super-resolve", str(files["grey"]), "--scale", "2"]):
        out = d / f"{net}_{args[0]}.png"
        ok(runner.invoke(cli, [*args, "-o", str(out), "--net", net, "--iters", "2", "-q"]))
        assert io.load_image(out).size_text == ("62x74" if args[0] == "super-resolve" else "31x37")


def test_progress_in_a_log_is_a_line_every_few_seconds_not_one_per_iteration(tmp_path, files):
    # standard error is a file here, as in a log: no bar redrawn per iteration
    out, log = tmp_path / "o.png", tmp_path / "log.txt"
    with log.open("w") as err:
        subprocess.run([str(Path(sys.executable).parent / "deepprior"), "denoise", str(files["clean"]), "-o", str(out),
                        "--iters", "40", "--stop", "none", "--threads", "1"], stderr=err, check=True,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")})
    lines = [line for line in log.read_text().splitlines() if line.startswith("denoise: ")]
    assert lines and lines[-1].startswith("denoise: 40/40 it (100%)"), log.read_text()
    assert len(lines) <= 5, lines  # 40 iterations of a tiny image: seconds, so one line or a few
    assert "\r" not in log.read_text()
