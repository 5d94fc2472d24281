"""Inpainting and pixel restoration: ``y = m * x`` with a known-pixel mask ``m``.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (inpainting, Table 1 pixel restoration,
    the region and text figures: the ``paper-*`` presets).

"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import io
from ..benchdata import Case, centre, limit_names, load
from ..errors import InputError
from ..fit.config import FitConfig
from ..io import ImageData
from ..nets import SkipConfig
from ..physics import Mask, random_mask
from ..presets import FAST_NET, Preset, TaskInfo, paper_preset
from ..restore.problem import Problem
from .base import Example, Option, Stage, Table, Task, synthetic_scene
from .denoise import FAST_SUMMARY


def _paper(info: TaskInfo) -> Preset:
    return paper_preset(FitConfig(num_iter=3000, lr=0.01, reg_noise_std=0.03),
                        "paper settings with the skip net 128x5, 3000 iterations, lr 0.01, input noise 0.03")


def _fast(info: TaskInfo) -> Preset:
    fit = FitConfig(num_iter=3000, lr=0.01, reg_noise_std=0.03, channels_last=True)
    return Preset("fast", "skip", FAST_NET, fit, "auto", FAST_SUMMARY)


def _paper_pixels(info: TaskInfo) -> Preset:
    fit = FitConfig(num_iter=11000, lr=0.001, reg_noise_std=0.03)
    return Preset("paper-pixels", "skip", SkipConfig(), fit, "fp32",
                  "Table 1 pixel restoration: skip net 128x5, 11000 iterations, lr 0.001, input noise 0.03")


def _paper_region(info: TaskInfo) -> Preset:
    net = SkipConfig(channels_skip=(0,) * 5, upsample="nearest")
    fit = FitConfig(num_iter=5000, lr=0.01, input_type="meshgrid", input_depth=2, reg_noise_std=0.03)
    return Preset("paper-region", "hourglass", net, fit, "fp32",
                  "large-hole inpainting (vase figure): hourglass 128x5, nearest upsampling, meshgrid input, "
                  "5000 iterations")


def _paper_text(info: TaskInfo) -> Preset:
    net = SkipConfig(channels_skip=(128,) * 5, upsample="nearest")
    fit = FitConfig(num_iter=6000, lr=0.01, reg_noise_std=0.03)
    return Preset("paper-text", "skip", net, fit, "fp32",
                  "text inpainting (kate figure): skip net 128x5 with 128 skip channels, nearest upsampling, "
                  "6000 iterations")


PRESETS = {"fast": _fast, "paper": _paper, "paper-pixels": _paper_pixels, "paper-region": _paper_region,
           "paper-text": _paper_text}

OPTIONS = (
    Option("mask", "White = known, black = missing. Default: the PNG's transparent pixels.", kind="path",
           label="Mask"),
    Option("keep_known", "Return the known pixels as given (the network fills only the missing ones); "
           "--no-keep-known returns the network's image everywhere, as the paper did.", kind="switch", default=True,
           label="Keep the known pixels"),
)


def is_scattered(known: np.ndarray) -> bool:
    """Whether a mask's missing pixels are scattered (pixel restoration) rather than holes.

    True when at least half of the missing pixels have a known pixel among their 4 neighbours: a random
    50 % mask gives about 94 %, a hole of 10x10 pixels 36 %. Scattered masks stop with ``holdout``
    under ``--stop auto`` (measured on pixel restoration); holes run to ``--iters`` (not measured).
    """
    missing = ~known
    n = int(missing.sum())
    if n == 0:
        return False
    pad = np.pad(known, 1, mode="constant", constant_values=False)
    near = pad[:-2, 1:-1] | pad[2:, 1:-1] | pad[1:-1, :-2] | pad[1:-1, 2:]
    return bool((near & missing).sum() >= 0.5 * n)


def build(image: ImageData, *, mask: Any = None, keep_known: bool = True) -> Problem:
    """The inpainting problem: the mask operator; without a mask, the image's transparent pixels are missing.

    Args:
        image: the damaged image.
        mask: white = known, black = missing (grey >= 128 counts as known): a path or a boolean array.
        keep_known: return the known pixels as given and the network's image only in the missing ones.

    """
    out_alpha = image.alpha
    if mask is None:
        if image.alpha is None or not (image.alpha < 0.5 / 255).any():
            raise InputError("inpaint needs --mask (white = known, black = missing), or a PNG with transparent pixels")
        known = image.alpha >= 0.5 / 255
        out_alpha = None
    else:
        if isinstance(mask, ImageData):
            mask = mask.pixels
        if isinstance(mask, (str, Path)) and not Path(mask).exists():
            raise InputError(f"no such mask file: {mask}")
        known = io.load_mask(mask, height=image.height, width=image.width)
    if not known.any():
        raise InputError("the mask marks no pixel as known: nothing to fit")
    if known.all():
        raise InputError("the mask marks every pixel as known: nothing to fill (white = known, black = missing)")
    m = torch.from_numpy(known.astype(np.float32))[None, None]
    y = io.to_tensor(image.pixels) * m
    return Problem("inpaint", image, Mask(m), y, TaskInfo("inpaint"), PRESETS,
                   auto_stop="holdout" if is_scattered(known) else "none", weights=m, out_alpha=out_alpha,
                   input_for_score=image.pixels * known[:, :, None], keep_known=keep_known)


STAGE_OPTIONS = (Option("drop", "Each pixel goes missing with this probability.", low=0, high=1, high_open=True),)


def drop_pixels(x: torch.Tensor, alpha: Any, opts: dict[str, Any], generator: torch.Generator
                ) -> tuple[torch.Tensor, Any, str | None, Any]:
    """Drop pixels at random (missing pixels are set to 0); returns the mask of kept pixels."""
    drop = opts.get("drop")
    if drop is None:
        return x, alpha, None, None
    m = random_mask(x.shape[-2], x.shape[-1], drop=drop, generator=generator)
    return x * m, alpha, f"drop {drop:g} of pixels", m[0, 0].numpy() > 0.5


PIXEL_IMAGES = ("barbara", "boat", "house", "Lena512", "peppers256", "Cameraman256", "couple", "fingerprint",
                "hill", "man", "montage")


def pixel_cases(cfg: Any, data: Path) -> Iterator[Case]:
    """Table 1: 11 grey images with 50 % of pixels missing (known where the masked file is not 0)."""
    root = data / "dip-paper" / "pixels50"
    for name in limit_names(PIXEL_IMAGES, cfg.limit, cfg.images):
        gt = centre(load(root / f"{name}_GT.png"), cfg.crop).mean(axis=2, keepdims=True)
        masked = centre(load(root / f"{name}_masked.png"), cfg.crop).mean(axis=2, keepdims=True)
        known = masked[:, :, 0] != 0
        # A pixel black in the ground truth is black in the masked file whether it was kept or dropped, so the
        # mask read from the file calls it missing (the paper had its own mask). Whole images show it: peppers256
        # has a black first row and column (511 pixels), montage 249 black pixels, couple 247.
        ambiguous = ~known & (gt[:, :, 0] == 0)
        published = {}
        for label, suffix in (("published DIP", "deep_prior"), ("published Papyan", "papyan")):
            p = root / f"{name}_{suffix}.png"
            if p.exists():
                published[label] = centre(load(p), cfg.crop).mean(axis=2, keepdims=True)
        yield Case(name, "pixels50", "inpaint", masked, gt, known=known, published=published, ambiguous=ambiguous)


def _baselines(case: Case) -> dict[str, Any]:
    from ..baselines import biharmonic

    known = case.known
    return {} if known is None else {"biharmonic": lambda: biharmonic(case.corrupted, known)}


def example() -> Example:
    """A synthetic scene with half of its pixels missing (a seeded random mask; white = known)."""
    clean = synthetic_scene()
    mask = np.random.default_rng(0).random(clean.shape[:2]) < 0.5
    return Example((clean * mask[..., None],), {"mask": mask.astype(np.float32)}, clean)


TASK = Task(
    name="inpaint", summary="Fill the missing pixels of INPUT (inpainting and pixel restoration).",
    title="Fill in missing pixels",
    inputs=("image",), options=OPTIONS, build=build, presets=PRESETS,
    stages=(Stage(40, STAGE_OPTIONS, drop_pixels),),
    tables=(Table("pixels", "Table 1: pixel restoration, 11 grey images with 50 % of pixels missing.",
                  pixel_cases, _baselines, lambda case: {"mask": case.known}),),
    example=example,
)
