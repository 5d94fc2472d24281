"""Per-iteration time of each preset against the paper's configuration, side by side in one run.

Each configuration runs the real fitting loop (forward, loss, backward, Adam step, averaging, guard) on a
random image of the given size; after ``warmup`` iterations, ``repeats`` iterations are timed one by one
and the median and spread are reported. Configurations alternate in rounds so that drift of a shared
machine hits them alike. The ratio is the median against the paper configuration's median *from the same
run* (absolute seconds drift between runs; ratios do not).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..fit.config import FitConfig
from ..fit.loop import Callback, Fitter, StepState


@dataclass(frozen=True)
class SpeedCase:
    """One configuration to time: a preset (or the paper's network in another precision)."""

    label: str
    preset: str
    precision: str = "auto"
    compile: bool = False


DEFAULT_CASES = (
    SpeedCase("paper fp32 (reference)", "paper", "fp32"),
    SpeedCase("paper bf16", "paper", "bf16"),
    SpeedCase("fast", "fast", "auto"),
)

#: ``fast`` through ``torch.compile`` (``deepprior bench speed --compile``): its first iteration, which
#: compiles, is reported apart.
COMPILED_CASE = SpeedCase("fast + torch.compile", "fast", "auto", compile=True)


class _Timer(Callback):
    def __init__(self) -> None:
        self.stamps: list[float] = []

    def on_start(self, fitter: Fitter) -> None:
        self.stamps = [time.perf_counter()]

    def on_step(self, state: StepState) -> None:
        self.stamps.append(time.perf_counter())


def _build(case: SpeedCase, size: int, channels: int, device: torch.device, iters: int, seed: int) -> Fitter:
    from ..device import resolve_precision
    from ..nets import get_entry
    from ..physics import Identity
    from ..presets import TaskInfo
    from ..restore.resolve import with_layout
    from ..tasks import resolve_preset

    preset = resolve_preset(case.preset, TaskInfo(task="denoise", sigma=25))
    precision = resolve_precision(case.precision, preset.precision, device)
    cfg: FitConfig = with_layout(preset.fit, precision).updated(num_iter=iters, precision=precision,
                                                                compile=case.compile or None)
    torch.manual_seed(seed)
    net = get_entry(preset.net).builder(cfg.input_depth, channels, preset.net_config)
    y = torch.rand((1, channels, size, size), generator=torch.Generator().manual_seed(seed))
    return Fitter(net, Identity(), y, config=cfg, device=device, seed=seed)


def time_cases(
    cases: tuple[SpeedCase, ...] = DEFAULT_CASES,
    *,
    size: int = 512,
    channels: int = 3,
    warmup: int = 2,
    repeats: int = 5,
    rounds: int = 1,
    device: str = "auto",
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time each case; returns ``{"meta", "rows", "reference", ...}`` with medians, spreads and ratios; ``meta``
    is the harness's metadata (commit, versions, machine, threads) as the run started.
    """
    from ..device import resolve_device
    from .meta import run_metadata

    meta = run_metadata({"cases": [c.label for c in cases], "size": size, "channels": channels, "warmup": warmup,
                         "repeats": repeats, "rounds": rounds, "device": device, "seed": seed})
    dev = resolve_device(device)
    samples: dict[str, list[float]] = {c.label: [] for c in cases}
    precisions: dict[str, str] = {}
    first: dict[str, list[float]] = {c.label: [] for c in cases}
    for _ in range(rounds):
        for case in cases:
            fitter = _build(case, size, channels, dev, warmup + repeats, seed)
            precisions[case.label] = fitter.config.precision
            timer = _Timer()
            fitter.callbacks.append(timer)
            fitter.run()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            steps = [b - a for a, b in zip(timer.stamps[:-1], timer.stamps[1:], strict=True)]
            samples[case.label].extend(steps[warmup:])
            first[case.label].append(steps[0])
            echo(f"{case.label:<26} {statistics.median(steps[warmup:]):.3f} s/iteration")
    ref = cases[0].label
    ref_median = statistics.median(samples[ref])
    rows = []
    for case in cases:
        s = samples[case.label]
        med = statistics.median(s)
        rows.append({
            "label": case.label, "preset": case.preset, "precision": precisions[case.label],
            "median_s": round(med, 4), "min_s": round(min(s), 4), "max_s": round(max(s), 4), "n": len(s),
            "first_iteration_s": round(max(first[case.label]), 2),
            "ratio_to_reference": round(med / ref_median, 3),
        })
    return {"meta": meta, "size": size, "channels": channels, "device": str(dev), "threads": torch.get_num_threads(),
            "warmup": warmup, "repeats": repeats, "rounds": rounds, "reference": ref, "rows": rows}


def speed_markdown(result: dict[str, Any], *, command: str = "") -> str:
    lines = [
        f"Per-iteration time at {result['size']}x{result['size']} RGB, {result['device']}, {result['threads']} "
        f"threads; median of {result['repeats'] * result['rounds']} timed iterations after {result['warmup']} "
        "warm-up, configurations interleaved in one run.",
        "",
        "| configuration | precision | s / iteration (median) | min - max | ratio to paper fp32 | first "
        "iteration (s, slowest round) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        first = r.get("first_iteration_s")
        lines.append(
            f"| {r['label']} | {r['precision']} | {r['median_s']:.3f} | {r['min_s']:.3f} - {r['max_s']:.3f} | "
            f"{r['ratio_to_reference']:.2f}x | {'—' if first is None else f'{first:.1f}'} |"
        )
    if command:
        lines += ["", f"Command: `{command}`"]
    return "\n".join(lines) + "\n"
