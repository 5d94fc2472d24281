"""Folder batches (issue #21): mirrored outputs, clashes, bad files, records, --skip-existing, --jobs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepprior import io
from deepprior.batch.plan import Source, find_inputs, plan
from deepprior.cli import cli
from deepprior.errors import InputError

FAST = ["--sigma", "25", "--iters", "3", "--threads", "1", "-q"]


@pytest.fixture
def folder(tmp_path):
    """in/a.png, in/sub/b.png, in/sub/c.jpg, a 16-bit in/sub/deep.png, a corrupt in/sub/bad.png, and files a
    batch must leave alone: a text file and a hidden folder."""
    rng = np.random.default_rng(0)
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    io.save_image(root / "a.png", rng.integers(0, 256, (20, 18, 3), dtype=np.uint8))
    io.save_image(root / "sub" / "b.png", rng.integers(0, 256, (20, 18, 3), dtype=np.uint8))
    io.save_image(root / "sub" / "c.jpg", rng.integers(0, 256, (20, 18, 3), dtype=np.uint8))
    io.save_image(root / "sub" / "deep.png", rng.integers(0, 65536, (20, 18, 3), dtype=np.uint16))
    (root / "sub" / "bad.png").write_bytes(b"this is text, not a PNG")
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden" / "x.png").write_bytes(b"hidden")
    return root


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_recursive_batch_mirrors_the_folders_skips_the_bad_file_and_records_every_file(runner, folder, tmp_path):
    out, records = tmp_path / "out" / "run1", tmp_path / "records.jsonl"  # -o is created, with its parent
    result = runner.invoke(cli, ["denoise", str(folder), "-r", "-o", str(out), "--reports", str(records), *FAST])
    assert result.exit_code == 1
    assert "restored 4 of 5 files; 1 failed" in result.output and "bad.png" in result.output
    assert "Traceback" not in result.output
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert found == ["a.png", "sub/b.png", "sub/c.png", "sub/deep.png"]
    assert io.load_image(out / "sub" / "deep.png").bit_depth == 16
    assert io.load_image(out / "sub" / "b.png").bit_depth == 8
    lines = _records(records)
    assert len(lines) == 5
    by_input = {line["input"].split("in/", 1)[1]: line for line in lines}
    assert by_input["sub/bad.png"]["status"] == "failed" and "bad.png" in by_input["sub/bad.png"]["error"]
    for name in ("a.png", "sub/b.png", "sub/c.jpg", "sub/deep.png"):
        line = by_input[name]
        assert line["status"] == "ok" and line["backend"] == "serial"
        assert isinstance(line["pid"], int) and line["host"]
        assert line["report"]["iterations"] == 3


def test_without_recursive_a_folder_gives_its_own_files_only(runner, folder, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(cli, ["denoise", str(folder), "-o", str(out), *FAST])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.png"]


def test_two_inputs_that_map_to_one_output_are_refused_before_any_fit(runner, folder, tmp_path):
    io.save_image(folder / "sub" / "b.jpg", np.zeros((8, 8, 3), np.uint8))
    out = tmp_path / "out"
    result = runner.invoke(cli, ["denoise", str(folder), "-r", "-o", str(out), *FAST])
    assert result.exit_code == 1
    assert "b.jpg and" in result.output and "b.png would both be written to" in result.output
    assert not any(p.is_file() for p in out.rglob("*"))
    # --format same keeps them apart (and JPEG stays JPEG)
    result = runner.invoke(cli, ["denoise", str(folder / "sub"), "-o", str(out), "--format", "same",
                                 "--suffix", "_dip", *FAST])
    assert sorted(p.name for p in out.iterdir()) == ["b_dip.jpg", "b_dip.png", "c_dip.jpg", "deep_dip.png"]


def test_skip_existing_continues_a_batch(runner, folder, tmp_path):
    out, records = tmp_path / "out", tmp_path / "r.jsonl"
    (folder / "sub" / "bad.png").unlink()
    (out / "sub").mkdir(parents=True)
    io.save_image(out / "sub" / "b.png", np.zeros((20, 18, 3), np.uint8))  # "done" before
    result = runner.invoke(cli, ["denoise", str(folder), "-r", "-o", str(out), "--skip-existing", "--reports",
                                 str(records), *FAST])
    assert result.exit_code == 0, result.output
    assert np.all(io.load_image(out / "sub" / "b.png").pixels == 0)  # left as it was
    statuses = {line["input"].rsplit("/", 1)[1]: line["status"] for line in _records(records)}
    assert statuses == {"a.png": "ok", "b.png": "exists", "c.jpg": "ok", "deep.png": "ok"}


def test_jobs_give_the_serial_images_bit_for_bit(runner, folder, tmp_path):
    (folder / "sub" / "bad.png").unlink()
    serial, parallel = tmp_path / "serial", tmp_path / "jobs"
    assert runner.invoke(cli, ["denoise", str(folder), "-r", "-o", str(serial), *FAST]).exit_code == 0
    result = runner.invoke(cli, ["denoise", str(folder), "-r", "-o", str(parallel), "--jobs", "2", "--reports",
                                 str(tmp_path / "r.jsonl"), *FAST])
    assert result.exit_code == 0, result.output
    for p in serial.rglob("*.png"):
        assert p.read_bytes() == (parallel / p.relative_to(serial)).read_bytes(), p
    lines = _records(tmp_path / "r.jsonl")
    assert {line["backend"] for line in lines} == {"jobs"} and len(lines) == 4


def test_jobs_beyond_the_cores_are_refused(runner, folder, tmp_path):
    from deepprior.device import available_cores

    n = available_cores() + 1
    result = runner.invoke(cli, ["denoise", str(folder), "-o", str(tmp_path / "o"), "--jobs", str(n), *FAST])
    assert result.exit_code == 1 and f"--jobs {n} is more than" in result.output


def test_plan_names_outputs_and_refuses_an_input_as_its_output(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    sources = [Source(tmp_path / "x.png", tmp_path.joinpath("x.png").relative_to(tmp_path))]
    with pytest.raises(InputError, match="is the input file"):
        plan(sources, tmp_path, batch=True)
    assert plan(sources, tmp_path, batch=True, suffix="_r")[0].output == tmp_path / "x_r.png"
    with pytest.raises(InputError, match="holds no image files"):
        find_inputs([tmp_path / "empty"] if (tmp_path / "empty").mkdir() is None else [])
