"""A task is its module and one registry line: a toy task registered here becomes an API function, a command
with its options, and a form on the web page, with nothing else written for it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from click.testing import CliRunner

import deepprior
from deepprior import io
from deepprior.fit.losses import MSE
from deepprior.physics import Identity
from deepprior.presets import TaskInfo
from deepprior.restore.problem import Problem
from deepprior.tasks import TASKS, jpeg
from deepprior.tasks.base import Option, Task

STRENGTH = Option(name="strength", help="How much to brighten before the fit (toy).", kind="float", default=0.0,
                  low=0.0, high=1.0)


def _build(image: io.ImageData, strength: float = 0.0) -> Problem:
    y = (io.to_tensor(image.pixels) + strength).clamp(0, 1)
    return Problem("toy-brighten", image, Identity(), y, TaskInfo("toy-brighten"), jpeg.PRESETS, auto_stop="none",
                   input_for_score=image.pixels, loss=MSE())


#: The whole toy task: its module would hold ``_build`` and this; the registry line is the fixture's.
TOY = Task(name="toy-brighten", summary="Brighten INPUT and fit it (a toy task of the tests).", inputs=("image",),
           options=(STRENGTH,), build=_build, presets=jpeg.PRESETS)


@pytest.fixture
def toy() -> Iterator[Task]:
    from deepprior.cli import cli

    TASKS.register(TOY)
    try:
        yield TOY
    finally:
        TASKS.unregister(TOY.name)
        cli.commands.pop(TOY.name, None)


def test_the_toy_task_is_an_api_function(toy: Task) -> None:
    image = np.full((16, 16, 3), 0.25)
    r = deepprior.toy_brighten(image, strength=0.5, num_iter=2, seed=1)
    assert (r.task, r.fit.iterations, r.seed) == ("toy-brighten", 2, 1)
    assert deepprior.restore_with("toy-brighten", image, num_iter=2).fit.iterations == 2
    with pytest.raises(deepprior.ConfigError, match="strength"):
        deepprior.toy_brighten(image, strength=2.0, num_iter=2)  # the option's range, from its declaration


def test_the_toy_task_is_a_command_with_its_options(toy: Task, tmp_path) -> None:
    from deepprior.cli import cli

    runner = CliRunner()
    help_text = runner.invoke(cli, ["toy-brighten", "--help"]).output
    assert "--strength" in help_text and "--iters" in help_text
    io.save_image(tmp_path / "in.png", np.full((16, 16, 3), 64, np.uint8))
    out = tmp_path / "out.png"
    result = runner.invoke(cli, ["toy-brighten", str(tmp_path / "in.png"), "-o", str(out), "--strength", "0.1",
                                 "--iters", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert "toy-brighten" in runner.invoke(cli, ["--help"]).output


def test_the_toy_task_is_a_form_on_the_web_page(toy: Task) -> None:
    pytest.importorskip("fastapi")
    from deepprior.web.form import form

    tasks = {t["name"]: t for t in form()["tasks"]}
    assert [o["name"] for o in tasks["toy-brighten"]["options"]] == ["strength"]


def test_unregistering_forgets_the_task() -> None:
    TASKS.register(TOY)
    TASKS.unregister(TOY.name)
    assert TOY.name not in TASKS
    with pytest.raises(AttributeError):
        _ = deepprior.toy_brighten
