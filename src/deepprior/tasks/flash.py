"""Flash/no-flash reconstruction: the network takes the *flash* image as its input and is fitted to the
noisy *no-flash* image, so the result keeps the no-flash lighting with the flash image's detail.

The ``paper`` preset follows the reference's flash/no-flash figure: skip net 128x5, Adam lr 0.1, 601
iterations, no input perturbation, no output averaging (the last output is the answer); ``fast`` the same
with 64 channels in bfloat16. The reference used nearest upsampling at the two finest levels; we use
bilinear throughout.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (flash/no-flash figure).

"""

from __future__ import annotations

from dataclasses import replace

from .. import io
from ..errors import InputError
from ..fit.config import FitConfig
from ..fit.losses import MSE
from ..io import ImageData
from ..physics import Identity
from ..presets import FAST_NET, Preset, TaskInfo, paper_preset
from ..restore.problem import Problem
from .base import Example, Task, gaussian_noise, synthetic_scene
from .denoise import FAST_SUMMARY


def _paper(info: TaskInfo) -> Preset:
    # The flash image is the input; no perturbation, no averaging (the notebook returns the last output).
    fit = FitConfig(num_iter=601, lr=0.1, input_depth=3, reg_noise_std=0.0, ema=0.0)
    return paper_preset(fit, "paper flash/no-flash: skip net 128x5, the flash image as input, 601 iterations, lr 0.1")


def _fast(info: TaskInfo) -> Preset:
    return Preset("fast", "skip", FAST_NET, replace(_paper(info).fit, channels_last=True), "auto", FAST_SUMMARY)


PRESETS = {"fast": _fast, "paper": _paper}


def build(flash: ImageData, noflash: ImageData) -> Problem:
    """The flash/no-flash problem: the identity on the no-flash image, the flash image as the network input.

    Args:
        flash: the flash image (the network's input).
        noflash: the no-flash image (the target), same size.

    """
    if (flash.height, flash.width) != (noflash.height, noflash.width):
        raise InputError(f"the flash image is {flash.size_text} but the no-flash image is {noflash.size_text}; "
                         "they must be the same size (an aligned pair)")
    return Problem("flash-no-flash", noflash, Identity(), io.to_tensor(noflash.pixels), TaskInfo("flash-no-flash"),
                   PRESETS, auto_stop="none", out_alpha=noflash.alpha, input_for_score=noflash.pixels, loss=MSE(),
                   net_input=io.to_tensor(flash.pixels), tileable=False)


def example() -> Example:
    """A synthetic scene: the flash image sharp and bright, the no-flash one dim and noisy."""
    clean = synthetic_scene()
    return Example((clean, gaussian_noise(0.4 * clean, 10)), {}, clean)


TASK = Task(name="flash-no-flash", title="Combine a flash and a no-flash photo",
            summary="Combine a FLASH image (detail) with a NOFLASH image (lighting) of the same scene.",
            inputs=("flash", "noflash"), options=(), build=build, presets=PRESETS, target="the no-flash image",
            example=example)
