"""Super-resolution: ``y = D_s(x)``, downsampling by ``s`` with a stated antialiasing kernel.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (x4 / x8 with the Lanczos-2 downsampler).

"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import io
from ..benchdata import Case, centre, limit_names, load
from ..errors import ConfigError, InputError
from ..fit.config import FitConfig
from ..io import ImageData
from ..physics import KERNELS, Downsample
from ..presets import FAST_NET, Preset, TaskInfo, paper_preset
from ..restore.problem import NetTweak, Problem
from .base import Example, Option, Stage, Table, Task, synthetic_scene
from .denoise import FAST_SUMMARY

SCALES = (2, 4, 8)


def _paper(info: TaskInfo) -> Preset:
    if info.scale == 8:
        fit = FitConfig(num_iter=4000, lr=0.01, reg_noise_std=0.05)
    else:
        fit = FitConfig(num_iter=2000, lr=0.01, reg_noise_std=0.03)
    return paper_preset(fit, "paper super-resolution: skip net 128x5, x4: 2000 iterations / input noise 0.03, "
                             "x8: 4000 / 0.05")


def _fast(info: TaskInfo) -> Preset:
    return Preset("fast", "skip", FAST_NET, replace(_paper(info).fit, channels_last=True), "auto", FAST_SUMMARY)


PRESETS = {"fast": _fast, "paper": _paper}

OPTIONS = (
    Option("scale", "Enlargement factor.", kind="choice", choices=tuple(map(str, SCALES)), required=True,
           label="Enlarge by"),
    Option("kernel", "The downsampling operator the fit assumes.", kind="choice", choices=tuple(KERNELS),
           default="lanczos2", label="Shrinking filter assumed"),
)


#: Networks other than the preset's, as super-resolution needs them (x4 on a 128x128 kodim03 crop, 600
#: iterations, bicubic 28.57 dB; benchmarks/studies/sr_failures.py). The U-Net from noise: transposed
#: convolutions 20.34 dB, bilinear 26.92, bilinear with a meshgrid input 27.84, bilinear with the upscaled
#: measurement as its input 29.22. The ResNet has no coarse path: from noise it leaves the unmeasured high
#: frequencies as noise (21.27 dB, meshgrid input 27.35); with the upscaled measurement as input 28.26.
NET_TWEAKS = {
    "unet": NetTweak(config={"upsample": "bilinear"}, fit={"reg_noise_std": 0.0}, upscaled_input=True),
    "resnet": NetTweak(fit={"reg_noise_std": 0.0}, upscaled_input=True),
}


def build(image: ImageData, *, scale: int | str | None = None, kernel: str = "lanczos2") -> Problem:
    """The super-resolution problem: the output is downsampled by ``kernel`` and fitted to the input.

    Args:
        image: the low-resolution image.
        scale: 2, 4 or 8.
        kernel: ``lanczos2`` (the paper's), ``lanczos3``, ``bicubic`` or ``box``.

    """
    if isinstance(scale, str) and scale.isdigit():
        scale = int(scale)
    if scale not in SCALES:
        raise ConfigError(f"scale {scale!r} is invalid; expected one of {', '.join(map(str, SCALES))}")
    factor = int(scale)
    if min(image.height, image.width) < 4:
        raise InputError(f"image is {image.size_text}; super-resolution needs at least 4x4 pixels")
    alpha = None
    if image.alpha is not None:
        from PIL import Image

        a = Image.fromarray(np.round(image.alpha * 255).astype(np.uint8))
        size = (image.width * factor, image.height * factor)
        alpha = np.asarray(a.resize(size, Image.Resampling.BICUBIC), np.float32) / 255
    return Problem("super-resolve", image, Downsample(factor, kernel), io.to_tensor(image.pixels),
                   TaskInfo("super-resolve", scale=factor), PRESETS, auto_stop="none", out_alpha=alpha,
                   net_tweaks=NET_TWEAKS)


STAGE_OPTIONS = (Option("downscale", "Shrink by this factor (bicubic).", kind="int", low=1),)


def downscale(x: torch.Tensor, alpha: Any, opts: dict[str, Any], generator: torch.Generator
              ) -> tuple[torch.Tensor, Any, str | None, Any]:
    """Shrink by an integer factor: crop so the sides divide by it, then Pillow's bicubic on each float plane."""
    factor = opts.get("downscale")
    if factor is None:
        return x, alpha, None, None
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ConfigError(f"downscale factor {factor!r} is invalid; expected a whole number >= 1")
    from PIL import Image

    h, w = x.shape[-2] // factor, x.shape[-1] // factor
    if min(w, h) < 1:
        raise InputError(f"image is {x.shape[-1]}x{x.shape[-2]}: too small to downscale by {factor}")

    def resize(plane: np.ndarray) -> np.ndarray:
        pil = Image.fromarray(plane.astype(np.float32), mode="F")
        return np.asarray(pil.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)

    px = io.from_tensor(x)[: h * factor, : w * factor]
    pixels = np.clip(np.stack([resize(px[:, :, c]) for c in range(px.shape[2])], axis=2), 0, 1)
    small_alpha = None if alpha is None else np.clip(resize(alpha[: h * factor, : w * factor]), 0, 1)
    return io.to_tensor(pixels), small_alpha, f"downscale x{factor} (bicubic, antialiased)", None


SR_SETS = ("Set5", "Set14")


def bicubic_down(gt: np.ndarray, scale: int) -> np.ndarray:
    """The SR protocol's low-resolution input: Pillow's antialiased bicubic on the 8-bit GT."""
    from PIL import Image

    h, w = gt.shape[:2]
    u8 = np.round(gt * 255).astype(np.uint8)
    pil = Image.fromarray(u8[:, :, 0] if u8.shape[2] == 1 else u8)
    small = np.asarray(pil.resize((w // scale, h // scale), Image.Resampling.BICUBIC), np.float32) / 255.0
    return small[:, :, None] if small.ndim == 2 else small


def sr_cases(cfg: Any, data: Path) -> Iterator[Case]:
    """Set5 and Set14 at each scale; low resolution made from the (cropped) GT."""
    root = data / "dip-paper" / "sr"
    for scale in cfg.scales:
        for set_name in cfg.sets:
            folder = root / set_name / f"x{scale}"
            if not folder.is_dir():
                raise InputError(f"benchmark folder missing: {folder}")
            names = sorted(p.name[: -len("_GT.png")] for p in folder.glob("*_GT.png"))
            for name in limit_names(names, cfg.limit, cfg.images):
                gt = centre(load(folder / f"{name}_GT.png"), cfg.crop, multiple=scale)
                published = {}
                for p in sorted(folder.glob(f"{name}_deep_prior*.png")):
                    label = "published DIP" + p.stem[len(f"{name}_deep_prior") :].replace("_", " ")
                    pub = load(p)
                    if pub.shape[:2] == load(folder / f"{name}_GT.png").shape[:2]:
                        published[label.strip()] = centre(pub, cfg.crop, multiple=scale)
                yield Case(name, f"{set_name} x{scale}", "super-resolve", bicubic_down(gt, scale), gt,
                           scale=scale, published=published)


def _baselines(case: Case) -> dict[str, Any]:
    from ..baselines import bicubic

    return {"bicubic": lambda: bicubic(case.corrupted, case.scale or 4)}


def example() -> Example:
    """A synthetic scene shrunk to half its size by the operator the fit assumes (lanczos2), to enlarge x2."""
    clean = synthetic_scene()
    small = Downsample(2, "lanczos2")(io.to_tensor(clean)).clamp(0, 1)
    return Example((io.from_tensor(small),), {"scale": 2}, clean)


TASK = Task(
    name="super-resolve", title="Enlarge (super-resolution)",
    summary="Enlarge INPUT by --scale.", inputs=("image",), options=OPTIONS, build=build,
    presets=PRESETS, min_side=1,  # its own 4x4 minimum is checked by build, with a message of its own
    stages=(Stage(20, STAGE_OPTIONS, downscale),),
    tables=(Table("sr", "Super-resolution on Set5 and Set14 (x4, x8): Y-channel PSNR, bicubic beside.",
                  sr_cases, _baselines, lambda case: {"scale": case.scale or 4},
                  (Option("scales", "Factors.", kind="ints", default="4", choices=tuple(map(str, SCALES))),
                   Option("sets", "Which sets.", kind="names", default=",".join(SR_SETS), choices=SR_SETS))),),
    example=example,
)
