"""Contracts every registered task and its operator keep, driven by the registry: a task added by one
registry line is tested here with nothing else written (its :class:`~deepprior.tasks.base.Example` is the
input). Each task: its example restores through the API to the clean image's shape, its API function takes
its options, the web form lists them, and the fuzz suite covers it; each task's operator, and each blur and
downsampling kernel of the physics registries: the adjoint, the output's shape, batches, padding, tiles."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import deepprior
from deepprior import io
from deepprior.physics import BLURS, KERNELS, Blur, Downsample, parse_blur
from deepprior.tasks import TASKS, build_problem

NAMES = list(TASKS)
#: Tasks the fuzz suite does not draw cases for yet, with the reason (a new task must be fuzzed or listed).
NOT_FUZZED = {"flash-no-flash": "two inputs: its refusals are tested by name in test_cli.py; no two-file fuzz case yet"}
#: One spec per blur family of the registry (``BLURS``), as the command line writes it.
BLUR_SPECS = {"gaussian": "gaussian:1.2", "box": "box:3", "motion": "motion:5,30"}


def _example(name: str):  # type: ignore[no-untyped-def]
    example = TASKS[name].example
    assert example is not None, f"task {name} has no example"
    return example()


def test_every_task_has_an_example() -> None:
    assert [name for name, task in TASKS.items() if task.example is None] == []


@pytest.mark.parametrize("name", NAMES)
def test_the_example_restores_through_the_api(name: str) -> None:
    ex = _example(name)
    r = deepprior.restore_with(name, *ex.images, **ex.options, num_iter=3, stop="none", reference=ex.clean)
    assert r.image.pixels.shape == ex.clean.shape
    assert r.psnr is not None and np.isfinite(r.psnr)
    assert r.fit.iterations == 3 and r.task == name


@pytest.mark.parametrize("name", NAMES)
def test_the_api_function_takes_the_tasks_options(name: str) -> None:
    task = TASKS[name]
    params = inspect.signature(getattr(deepprior, task.api_name)).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    assert {o.name for o in task.options} <= set(params) or (takes_any and "image" not in params), name


@pytest.mark.parametrize("name", NAMES)
def test_the_web_form_lists_the_tasks_inputs_and_options(name: str) -> None:
    pytest.importorskip("fastapi")
    from deepprior.web.form import form

    entry = {t["name"]: t for t in form()["tasks"]}[name]
    assert entry["inputs"] == list(TASKS[name].inputs)
    assert [o["name"] for o in entry["options"]] == [o.name for o in TASKS[name].options]


def test_every_task_is_fuzzed_or_says_why_not() -> None:
    source = (Path(__file__).parent / "test_fuzz.py").read_text()
    fuzzed = set(re.findall(r'run_property\("([a-z-]+)"', source))
    assert set(NAMES) - fuzzed == set(NOT_FUZZED), "fuzz the new task in tests/test_fuzz.py or say why not here"


def _operators() -> list[tuple[str, torch.nn.Module, tuple[int, ...]]]:
    """(name, operator, image shape): each task's, built from its example, then the physics registries'."""
    ops = []
    for name in NAMES:
        ex = _example(name)
        problem = build_problem(name, ex.images, ex.options)
        h, w = problem.output_shape
        ops.append((f"task-{name}", problem.operator, (1, problem.image.channels, h, w)))
    for family in BLURS:
        ops.append((f"blur-{family}", Blur.from_spec(parse_blur(BLUR_SPECS[family])), (1, 3, 40, 36)))
    for kernel in KERNELS:
        ops.append((f"down-{kernel}-4", Downsample(4, kernel), (1, 3, 40, 36)))
    return ops


OPERATORS = _operators()


def test_every_blur_family_is_covered() -> None:
    assert set(BLUR_SPECS) == set(BLURS)


@pytest.mark.parametrize(("name", "op", "shape"), OPERATORS, ids=[n for n, _, _ in OPERATORS])
def test_operator_adjoint_shape_and_batch(name: str, op: torch.nn.Module, shape: tuple[int, ...]) -> None:
    g = torch.Generator().manual_seed(0)
    op = op.double()
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    ax = op(x)
    assert tuple(ax.shape) == tuple(op.output_shape(shape)), name
    y = torch.rand(ax.shape, generator=g, dtype=torch.float64)
    lhs, rhs = (ax * y).sum(), (x * op.adjoint(y, shape)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-9), (name, float(lhs), float(rhs))
    weights = op.measured(ax)
    assert weights is None or weights.shape[-2:] == ax.shape[-2:], name
    if shape[1] == 3 and not name.startswith("task-inpaint"):  # a mask's weights are one image's
        two = torch.cat([x, x.flip(-1)])
        assert torch.allclose(op(two), torch.cat([op(x), op(x.flip(-1))])), name


@pytest.mark.parametrize(("name", "op", "shape"), OPERATORS, ids=[n for n, _, _ in OPERATORS])
def test_operator_padding_and_tiles_keep_shapes(name: str, op: torch.nn.Module, shape: tuple[int, ...]) -> None:
    f = getattr(op, "factor", 1)
    padded = op.padded(2 * f, 4 * f)
    b, c, h, w = shape
    big = (b, c, h + 2 * f, w + 4 * f)
    out_h, out_w = op.output_shape(shape)[-2:]
    assert tuple(padded.output_shape(big)[-2:]) == (out_h + 2, out_w + 4), name
    x = torch.rand(big, dtype=torch.float32)
    assert tuple(padded(x).shape) == tuple(padded.output_shape(big)), name
    tile = op.cropped(0, 0, out_h // 2, out_w // 2)
    small = (b, c, (out_h // 2) * f, (out_w // 2) * f)
    assert tuple(tile(torch.rand(small)).shape[-2:]) == (out_h // 2, out_w // 2), name
    assert io.from_tensor(torch.zeros(1, c, 2, 2)).shape == (2, 2, c)
