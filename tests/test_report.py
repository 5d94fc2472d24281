"""The report (``--report``) is strict JSON and follows its documented schema (the docs' Report page and
``report_schema.json``)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import deepprior
from deepprior.cli import cli
from deepprior.fit.loop import FitResult
from deepprior.restore.report import Restoration, report_schema, strict_json

REPORT_PAGE = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "report.md").read_text()


def _strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _validate(report) -> None:
    jsonschema.validate(report, report_schema(), cls=jsonschema.Draft202012Validator)


def test_the_schema_is_a_valid_json_schema_and_lists_the_readme_keys():
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    section = REPORT_PAGE.split("# The report (`--report`)", 1)[1]
    rows = [line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("| `")]
    documented = {key for row in rows for key in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert documented == set(schema["properties"])
    assert set(schema["required"]) == documented - {"input", "output"}


def _restoration(history, psnr=None) -> Restoration:
    import torch

    fit = FitResult(image=torch.zeros(1, 1, 8, 8), history=history, iterations=2, stopped_at=2,
                    stop_reason="max_iter", seconds=0.5)
    from deepprior.io import ImageData

    return Restoration(image=ImageData(np.zeros((8, 8, 1), np.float32)), fit=fit, task="denoise", preset="fast",
                       net="skip", device="cpu", precision="fp32", threads=1, seed=0, psnr=psnr)


def test_non_finite_numbers_become_null():
    history = [{"iteration": 1, "seconds": 0.1, "loss": math.nan, "psnr_input": -math.inf, "psnr": None},
               {"iteration": 2, "seconds": 0.2, "loss": 0.5, "psnr_input": math.inf, "psnr": math.nan}]
    rep = _restoration(history, psnr=math.inf).report()
    text = json.dumps(rep, allow_nan=False)  # would raise on NaN or infinity
    back = _strict_loads(text)
    assert back["psnr"] is None
    assert back["history"][0]["loss"] is None and back["history"][0]["psnr_input"] is None
    assert back["history"][1] == {"iteration": 2, "seconds": 0.2, "loss": 0.5, "psnr_input": None, "psnr": None}
    assert strict_json({"a": (1.0, float("-inf"))}) == {"a": [1.0, None]}
    with pytest.raises(ValueError, match="not strict JSON"):
        _strict_loads('{"loss": NaN}')


@pytest.mark.parametrize("tile", [None, 16])
def test_api_reports_validate(odd_rgb, tile):
    r = deepprior.denoise(odd_rgb, num_iter=5, reference=odd_rgb, tile=tile, overlap=4, threads=1)
    rep = r.report()
    _strict_loads(json.dumps(rep, allow_nan=False))
    _validate(rep)
    assert (rep["config"]["tiling"] is None) == (tile is None)
    if tile is not None:
        assert rep["config"]["tiling"]["unrestored"] == [] and len(rep["config"]["tiling"]["tiles"]) == 6


@pytest.mark.parametrize("tiled", [False, True])
def test_cli_reports_validate_single_and_batch(tmp_path, odd_rgb, tiled):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(odd_rgb).save(src / name)
    out = tmp_path / "out"
    out.mkdir()
    extra = ["--tile", "16", "--overlap", "4"] if tiled else []
    common = ["--iters", "5", "-q", "--threads", "1", *extra]
    runner = CliRunner()
    # the input as its own reference: an infinite PSNR before the fit, written as null
    single = runner.invoke(cli, ["denoise", str(src / "a.png"), "-o", str(out / "one.png"), "--reference",
                                 str(src / "a.png"), "--report", str(tmp_path / "one.json"), *common])
    assert single.exit_code == 0, single.output
    rep = _strict_loads((tmp_path / "one.json").read_text())
    _validate(rep)
    assert rep["input_psnr"] is None and rep["input"].endswith("a.png")
    batch = runner.invoke(cli, ["denoise", str(src), "-o", str(out), "--report", str(tmp_path / "all.json"),
                                *common])
    assert batch.exit_code == 0, batch.output
    reports = _strict_loads((tmp_path / "all.json").read_text())
    assert isinstance(reports, list) and len(reports) == 2
    for rep in reports:
        _validate(rep)
