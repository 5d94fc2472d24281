"""Blind JPEG-artifact removal: fit the compressed image itself and stop before the network reproduces the
artifacts (blocking, ringing), which it learns later than the image.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (the "blind restoration of a
    JPEG-compressed image" figure: its light network and settings are the presets here).

"""

from __future__ import annotations

from dataclasses import replace

from .. import io
from ..fit.config import FitConfig
from ..fit.losses import MSE
from ..io import ImageData
from ..nets import SkipConfig
from ..physics import Identity
from ..presets import Preset, TaskInfo, paper_preset
from ..restore.problem import Problem
from .base import Example, Task, synthetic_scene

#: The reference notebook's network for blind JPEG-artifact removal (the snail figure): a light skip net
#: (8 to 128 channels, skips only at the two coarsest levels) with a 3-channel noise input.
JPEG_NET = SkipConfig(channels_down=(8, 16, 32, 64, 128), channels_up=(8, 16, 32, 64, 128),
                      channels_skip=(0, 0, 0, 4, 4))


def _paper(info: TaskInfo) -> Preset:
    fit = FitConfig(num_iter=2400, lr=0.01, input_depth=3, reg_noise_std=1.0 / 30.0)
    return paper_preset(fit, "paper JPEG-artifact removal: skip net 8-128 channels, 3-channel input, 2400 "
                             "iterations, lr 0.01", JPEG_NET)


def _fast(info: TaskInfo) -> Preset:
    base = _paper(info)  # already a light network: keep the paper's
    return replace(base, name="fast", fit=replace(base.fit, channels_last=True), precision="auto",
                   summary="the paper's light JPEG network in bfloat16 and channels-last where supported")


PRESETS = {"fast": _fast, "paper": _paper}


def build(image: ImageData) -> Problem:
    """The JPEG problem: the identity and MSE; a fixed 2400 iterations (``--stop auto`` is ``none`` here).

    Args:
        image: the JPEG-compressed image (any format; the decoded pixels are fitted).

    """
    return Problem("jpeg", image, Identity(), io.to_tensor(image.pixels), TaskInfo("jpeg"), PRESETS,
                   auto_stop="none", out_alpha=image.alpha, input_for_score=image.pixels, loss=MSE())


def example() -> Example:
    """A synthetic scene saved as a JPEG of quality 10 (blocking and ringing) and decoded."""
    import io as _bytes

    import numpy as np
    from PIL import Image

    clean = synthetic_scene()
    buffer = _bytes.BytesIO()
    Image.fromarray((clean * 255).round().astype(np.uint8)).save(buffer, format="JPEG", quality=10)
    buffer.seek(0)
    return Example((np.asarray(Image.open(buffer), dtype=np.float32) / 255,), {}, clean)


TASK = Task(name="jpeg", title="Remove JPEG artifacts",
            summary="Remove JPEG compression artifacts from INPUT (blind; files or folders).",
            inputs=("image",), options=(), build=build, presets=PRESETS, example=example)
