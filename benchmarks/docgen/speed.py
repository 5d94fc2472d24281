"""Figures of the speed sections: `torch.compile` on the CPU, and the GPU runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from docgen.results import field, load

COMPILE = "speed_512_compile.json"  # its row 3 is `fast + torch.compile`
#: The GPU speed runs at 512x512 (two calls of the device, before and after the loop changes).
GPU_512 = ("speed_512_cuda.json", "speed_cuda_old512.json", "speed_cuda_new512.json", "speed_cuda_new512c.json")


def _compile_gain() -> tuple[float, float, float]:
    """Seconds per iteration of `fast` and of `fast` compiled, and the compiled run's first iteration."""
    compiled = field(COMPILE, "rows.3")
    return field(COMPILE, "rows.label=fast.median_s"), compiled["median_s"], compiled["first_iteration_s"]


def _compile_saved_s(iters: int) -> float:
    """What compiling saves over a fit of ``iters`` iterations, its first (compiling) iteration paid."""
    plain, compiled, first = _compile_gain()
    return iters * (plain - compiled) - first


def _gpu512_ms() -> list[float]:
    """Every configuration's median milliseconds per iteration at 512x512 on the GPU."""
    return [1000 * r["median_s"] for n in GPU_512 for r in load(n)["rows"]]


TABLES: dict[str, Callable[[], str]] = {}

VALUES: dict[str, Callable[[], Any]] = {
    "compile_faster_pct": lambda: 100 * (1 - _compile_gain()[1] / _compile_gain()[0]),
    "compile_breakeven_iters": lambda: _compile_gain()[2] / (_compile_gain()[0] - _compile_gain()[1]),
    "compile_saved_min_1500": lambda: _compile_saved_s(1500) / 60,
    "compile_saved_pct_1500": lambda: 100 * _compile_saved_s(1500) / (1500 * _compile_gain()[0]),
    "gpu512_ms_min": lambda: min(_gpu512_ms()),
    "gpu512_ms_max": lambda: max(_gpu512_ms()),
}
