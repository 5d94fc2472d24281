"""One restoration, for every task: resolve, pad, fit (tiled or not), crop, score, report.

Padding never crops the image away: the output side is padded to a multiple of ``2 ** scales`` in whole
measurement pixels (reflection), the padding is not measured, and the result is cropped back.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import io
from ..errors import ConfigError, InputError
from ..fit.loop import Callback, FitResult, Fitter
from ..fit.protocols import CancelFlag
from ..fit.seeding import generator_seed
from ..fit.stopping import StopRule, make_stop_rule
from ..io import ImageData
from ..metrics import SSIM_MIN_SIDE
from ..metrics import psnr as psnr_metric
from ..metrics import ssim as ssim_metric
from ..nets.common import NetConfig
from ..physics.base import ForwardOperator
from .callbacks import FrameRecorder, ProgressBar, Snapshots, TileWatcher, default_frames, snapshot_list
from .checks import check_outputs, parse_settings
from .plan import Plan, make_plan
from .problem import Problem, Settings
from .report import Restoration
from .resolve import Resolved, resolve, scales_for
from .settings import DEFAULTS, OutputSettings, RunSettings

_log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A problem padded to its network: what the :class:`~deepprior.fit.loop.Fitter` needs."""

    y: torch.Tensor
    weights: torch.Tensor | None
    operator: ForwardOperator
    net_config: NetConfig
    region: tuple[int, int, int, int]
    pad: tuple[int, int]
    net_input: torch.Tensor | None = None


def _pad(t: torch.Tensor, bottom: int, right: int) -> torch.Tensor:
    if not bottom and not right:
        return t
    h, w = t.shape[-2:]
    mode = "reflect" if bottom < h and right < w else "replicate"
    return torch.nn.functional.pad(t, (0, right, 0, bottom), mode=mode)


def prepare(problem: Problem, net_config: NetConfig, net_input: torch.Tensor | None) -> Prepared:
    """Pad the output side to a multiple of 2^scales, in whole measurement pixels; fewer levels if small."""
    h, w = problem.y.shape[-2:]
    f = problem.factor
    out_h, out_w = h * f, w * f
    scales = scales_for(min(out_h, out_w), net_config.scales)
    if scales < net_config.scales:
        net_config = net_config.with_scales(scales)
    multiple = max(1, (2**scales) // f)
    pad_b, pad_r = (-h) % multiple, (-w) % multiple
    y = _pad(problem.y, pad_b, pad_r)
    weights = None
    if pad_b or pad_r:
        weights = torch.zeros((1, 1, h + pad_b, w + pad_r))
        weights[..., :h, :w] = 1.0
    if problem.weights is not None:
        base = _pad(problem.weights, pad_b, pad_r) if (pad_b or pad_r) else problem.weights
        weights = base if weights is None else base * weights
    operator = problem.operator.padded(pad_b * f, pad_r * f)
    padded_input = None if net_input is None else _pad(net_input, pad_b * f, pad_r * f)
    return Prepared(y, weights, operator, net_config, (0, 0, out_h, out_w), (pad_b * f, pad_r * f), padded_input)


def fit_problem(
    problem: Problem, rs: Resolved, *, seed: int, callbacks: Sequence[Callback], reference: torch.Tensor | None,
    cancel: CancelFlag | None = None,
) -> tuple[FitResult, Prepared, StopRule]:
    """Fit one (untiled) problem: build the network and the rule, pad, run the loop."""
    fitter, prep, rule = build_fitter(problem, rs, seed=seed, callbacks=callbacks, reference=reference,
                                      cancel=cancel)
    return fitter.run(), prep, rule


def build_fitter(
    problem: Problem, rs: Resolved, *, seed: int, callbacks: Sequence[Callback], reference: torch.Tensor | None,
    cancel: CancelFlag | None = None,
) -> tuple[Fitter, Prepared, StopRule]:
    """The fit of one (untiled) problem, ready to run: the network (seeded), the rule, the padded problem."""
    prep = prepare(problem, rs.net_config, rs.net_input)
    torch.manual_seed(generator_seed(seed))
    network = rs.entry.builder(rs.fit.input_depth, problem.image.channels, prep.net_config)
    rule = make_stop_rule(rs.stop, sigma=problem.info.sigma, num_iter=rs.fit.num_iter)
    fitter = Fitter(
        network, prep.operator, prep.y, config=rs.fit, weights=prep.weights, region=prep.region, stop=rule,
        callbacks=callbacks, reference=reference, device=rs.device, seed=seed, loss=problem.loss,
        net_input=prep.net_input, keep_known=problem.keep_known, cancel=cancel,
    )
    return fitter, prep, rule


def load_reference(reference: Any, shape: tuple[int, int], channels: int) -> np.ndarray | None:
    if reference is None:
        return None
    ref = io.load_matching(reference, height=shape[0], width=shape[1], what="reference")
    if (ref.height, ref.width) != shape:
        raise InputError(f"reference is {ref.size_text} but the restored image is {shape[1]}x{shape[0]}")
    px = ref.pixels
    if px.shape[2] != channels:
        px = px.mean(axis=2, keepdims=True) if channels == 1 else np.repeat(px.mean(axis=2, keepdims=True), 3, 2)
    return px


@dataclass(frozen=True)
class TilingPlan:
    """Whether and how an image is tiled: ``tile`` (None: whole), ``overlap``, and why (``asked``, ``rule``:
    the task's :class:`~deepprior.tiling.TileRule`, ``memory``: over ``max_memory``, ``whole``), in words too.
    """

    tile: int | None
    overlap: int
    reason: str
    why: str


def tiling_plan(problem: Problem, rs: Resolved, s: RunSettings) -> TilingPlan:
    """The tiling of ``problem`` under the settings ``s``: asked for, the task's rule, or memory."""
    from ..tiling import auto_tile

    t = s.tiling
    if t.tile:
        return TilingPlan(int(t.tile), t.overlap, "asked", "asked for (--tile)")
    h, w = problem.output_shape
    rule = problem.tiling
    by_rule = (t.tile is None and rule is not None and problem.tileable and rs.net_input is None
               and rs.device.type == "cpu" and s.fit.preset in (None, "fast") and rule.applies(h, w))
    if by_rule and rule is not None:
        overlap = t.overlap if t.overlap != DEFAULTS["overlap"] else rule.overlap
        return TilingPlan(rule.tile, overlap, "rule", f"{problem.task} with the fast preset on the CPU tiles "
                          f"images of {rule.min_pixels} pixels and more (--tile 0: untiled)")
    tile = auto_tile(h, w, rs.net_config.widest, t.max_memory)
    if tile is None:
        return TilingPlan(None, t.overlap, "whole", "the image is restored whole")
    return TilingPlan(tile, t.overlap, "memory", "the whole image would not fit --max-memory")


def _workers(rs: Resolved, tile: int, overlap: int, max_memory: str | int | None) -> int:
    """How many tiles run side by side: one per thread on the CPU, as many as the memory budget holds."""
    from ..tiling import default_budget, estimate_memory, parse_memory

    if rs.device.type != "cpu":
        return 1
    budget = parse_memory(max_memory) if max_memory is not None else default_budget()
    side = tile + 2 * overlap
    return max(1, min(rs.threads, budget // estimate_memory(side, side, rs.net_config.widest)))


def _settle(problem: Problem, s: RunSettings) -> tuple[Resolved, TilingPlan, int]:
    """Resolve the settings for ``problem``, decide the tiling (and the rate its rule sets) and how many tiles
    run side by side; every refusal here comes before any fit.
    """
    if not problem.tileable:
        given = s.tiling.changed()
        if given:
            raise ConfigError(f"--{given[0].replace('_', '-')} is not available for {problem.task}")
    rs = resolve(problem, s.fit)
    plan = tiling_plan(problem, rs, s)
    if plan.reason == "rule" and problem.tiling is not None and problem.tiling.lr is not None and s.fit.lr is None:
        rs = dataclasses.replace(rs, fit=rs.fit.updated(lr=problem.tiling.lr))
    if plan.tile is not None and (rs.net_input is not None or not problem.tileable):
        raise ConfigError(f"{problem.task} cannot be tiled (its network input is a whole image); "
                          "give a smaller image or a larger --max-memory")
    workers = (1 if plan.tile is None or s.runtime.tile_map
               else _workers(rs, plan.tile, plan.overlap, s.tiling.max_memory))
    return rs, plan, workers


def plan_restoration(problem: Problem, settings: Settings | RunSettings | None = None, **options: Any) -> Plan:
    """What :func:`restore` would do with these settings and about how long it would take here, without
    fitting (the command line's ``--dry-run``); every setting is checked as :func:`restore` checks it.
    """
    s = parse_settings(settings, options)
    rs, plan, workers = _settle(problem, s)
    check_outputs(s, problem, num_iter=rs.fit.num_iter, tiled=plan.tile is not None)
    return make_plan(problem, rs, tile=plan.tile, overlap=plan.overlap, workers=workers, build=build_fitter)


def restore(problem: Problem, settings: Settings | RunSettings | None = None, **options: Any) -> Restoration:
    """Restore ``problem`` with the shared settings (a :class:`Settings`, settings parsed already, and/or
    the keys as keywords).

    Every setting is checked before the fit starts (:mod:`deepprior.restore.checks`), the output's format
    against the image when ``output`` is given. Tiling happens when ``tile`` is given or the image would not
    fit ``max_memory``; tile ``i`` is fitted with seed ``seed + i``.
    """
    s = parse_settings(settings, options)
    outs, run = s.outputs, s.runtime
    rs, plan, workers = _settle(problem, s)
    tile, overlap = plan.tile, plan.overlap
    ref_px = load_reference(outs.reference, problem.output_shape, problem.image.channels)
    ref_tensor = None if ref_px is None else io.to_tensor(ref_px)
    snap_iters = snapshot_list(outs.snapshots)
    check_outputs(s, problem, num_iter=rs.fit.num_iter, tiled=tile is not None)
    estimate = None
    if not run.quiet:
        estimate = make_plan(problem, rs, tile=tile, overlap=overlap, workers=workers, build=build_fitter)
        _log.info(estimate.line())

    def finish(t: torch.Tensor) -> ImageData:
        pixels = io.quantize(io.from_tensor(t), problem.image.bit_depth)
        return ImageData(pixels=pixels, alpha=problem.out_alpha, bit_depth=problem.image.bit_depth, path=None)

    recorder = None
    tiles_report: dict[str, Any] = {}
    if tile is None:
        cbs: list[Callback] = list(run.callbacks)
        if not run.quiet:
            cbs.insert(0, ProgressBar(rs.fit.num_iter, description=problem.task))
        if outs.animation is not None:
            recorder = FrameRecorder(snap_iters or default_frames(rs.fit.num_iter))
            cbs.append(recorder)
        if snap_iters:
            folder = Path(outs.snapshot_dir) if outs.snapshot_dir is not None else Path(f"{problem.stem}_snapshots")
            cbs.append(Snapshots(snap_iters, folder, problem.stem, finish))
        result, prep, _ = fit_problem(problem, rs, seed=rs.seed, callbacks=cbs, reference=ref_tensor,
                                      cancel=run.cancel)
        net_config: NetConfig = prep.net_config
        padding = {"bottom": prep.pad[0], "right": prep.pad[1]}
    else:
        from .tiled import run_tiled

        if outs.animation is not None or snap_iters:
            raise ConfigError("--animation and --snapshots are not available with tiling")
        result, tiles_report = run_tiled(problem, rs, tile=tile, overlap=overlap, work_dir=s.tiling.work_dir,
                                         resume=s.tiling.resume, quiet=run.quiet, fit=fit_problem, cancel=run.cancel,
                                         tile_map=run.tile_map, workers=workers,
                                         watchers=[c for c in run.callbacks if isinstance(c, TileWatcher)])
        tiles_report = {"overlap": overlap, "why": plan.why, "workers": workers,
                        **tiles_report}
        net_config, padding = rs.net_config, {"bottom": 0, "right": 0}
    restored = finish(result.image)
    out = assemble(problem, rs, s, result, restored, ref_px, recorder, net_config, padding, tile, tiles_report)
    if estimate is not None:  # what was said before the fit, to set against ``fit.seconds``
        out.config["estimate"] = {"low_s": estimate.low, "high_s": estimate.high, "probe": estimate.probe,
                                  "seconds_per_iteration": estimate.seconds_per_iteration}
    return out


def assemble(problem: Problem, rs: Resolved, s: RunSettings, result: FitResult, restored: ImageData,
             ref_px: np.ndarray | None, recorder: FrameRecorder | None, net_config: NetConfig,
            padding: dict[str, int], tile: int | None, tiles_report: dict[str, Any]) -> Restoration:
    """Score, draw the figures asked for, and assemble the report."""
    out_h, out_w = problem.output_shape
    psnr_value = ssim_value = input_psnr = None
    if ref_px is not None:
        psnr_value = psnr_metric(restored.pixels, ref_px)
        ssim_value = ssim_metric(restored.pixels, ref_px) if min(out_h, out_w) >= SSIM_MIN_SIDE else None
        if problem.input_for_score is not None:
            input_psnr = psnr_metric(problem.input_for_score, ref_px)
    _figures(problem, rs, s.outputs, result, restored, ref_px, recorder)
    config = {
        "task": problem.task,
        "preset": rs.preset,
        "net": rs.net,
        "net_config": _jsonable(net_config),
        "fit": rs.fit.to_dict(),
        "stop": {"requested": rs.requested_stop, **result.stop_rule},
        "operator": repr(problem.operator),
        "keep_known": problem.keep_known,
        "image": {"width": problem.image.width, "height": problem.image.height,
                  "channels": problem.image.channels, "bit_depth": problem.image.bit_depth,
                  "alpha": problem.image.alpha is not None},
        "output": {"width": out_w, "height": out_h},
        "padding": padding,
        "tiling": None if tile is None else {"tile": tile, **tiles_report},
        "sigma": problem.info.sigma,
        "noise": problem.noise,
        "loss": None if problem.loss is None else problem.loss.describe(),
        "scale": problem.info.scale,
        **problem.extra,
        "device": str(rs.device),
        "threads": rs.threads,
        "seed": rs.seed,
    }
    return Restoration(
        image=restored, fit=result, task=problem.task, preset=rs.preset, net=rs.net, device=str(rs.device),
        precision=rs.precision, threads=rs.threads, seed=rs.seed, psnr=psnr_value, ssim=ssim_value,
        input_psnr=input_psnr, config=config, output=None if s.outputs.output is None else Path(s.outputs.output),
    )


def _figures(problem: Problem, rs: Resolved, outs: OutputSettings, result: FitResult, restored: ImageData,
             ref_px: np.ndarray | None, recorder: FrameRecorder | None) -> None:
    if outs.curves is not None:
        from ..viz import plot_curves

        plot_curves(result.history, outs.curves, title=f"{problem.task} ({rs.preset}, {rs.net})",
                    stopped_at=result.stopped_at, stop_reason=result.stop_reason)
    if recorder is not None and outs.animation is not None:
        from ..viz import write_animation

        frames = recorder.frames
        if result.stopped_at and (not frames or frames[-1][0] != result.stopped_at):
            frames = [*frames, (result.stopped_at, restored.pixels)]
        write_animation(frames, outs.animation)
    if outs.compare is not None:
        from ..viz import plot_compare

        shown = problem.input_for_score
        if shown is None:  # the measurement at the output's size (nearest), beside a super-resolved image
            f = problem.factor
            shown = np.repeat(np.repeat(io.from_tensor(problem.y), f, axis=0), f, axis=1)
        panels = [("corrupted input", shown), ("restored", restored.pixels)]
        if ref_px is not None:
            panels.append(("reference", ref_px))
        plot_compare(panels, outs.compare, reference=ref_px, restored=restored.pixels)


def _jsonable(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in asdict(obj).items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


__all__ = ["Prepared", "TilingPlan", "assemble", "build_fitter", "fit_problem", "load_reference", "plan_restoration",
           "prepare", "restore", "tiling_plan"]
