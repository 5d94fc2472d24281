"""The problem a task hands to :func:`~deepprior.restore.restore`, and the settings every task shares.

A :class:`Problem` is the mathematics of one restoration: the measurement ``y``, the forward operator
``A`` (with the measured entries it reports), the data term, the network's input when the task fixes it,
and the task's defaults (its preset rows, what ``--stop auto`` means). :class:`Settings` are the knobs
every task shares, declared once: the API's flat keywords, the object it also accepts whole, and the
command line's common flags, one to one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from typing_extensions import TypedDict

from ..fit.loop import Callback
from ..fit.losses import DataTerm
from ..fit.protocols import CancelFlag
from ..io import ImageData, ImageSource
from ..physics.base import ForwardOperator
from ..presets import PresetRow, TaskInfo
from ..tiling import TileRule


@dataclass(frozen=True)
class NetTweak:
    """What a task changes for one network (``--net``) other than its preset's, measured for that task.

    Attributes:
        config: architecture fields replaced in the network's default configuration.
        fit: fit settings replaced, on top of the network's own (``NetEntry.fit_overrides``).
        upscaled_input: the network's input is the measurement upscaled (bicubic) to the output's size,
            instead of noise (as flash/no-flash feeds the flash image).

    """

    config: Mapping[str, Any] = field(default_factory=dict)
    fit: Mapping[str, Any] = field(default_factory=dict)
    upscaled_input: bool = False


@dataclass
class Problem:
    """One restoration problem: ``y = A(x) + noise``, with everything a fit of ``x`` needs.

    Attributes:
        task: the task's name.
        image: the corrupted image as read (its size, channels and bit depth are the output's, times
            the operator's factor).
        operator: the forward operator ``A`` (its ``factor`` is output size / measurement size).
        y: the measurement, ``1 x C x h x w``, unpadded.
        weights: 0/1 weights of the measured entries of ``y`` (missing pixels 0), or None.
        out_alpha: the output's alpha channel, or None.
        info: what the presets may depend on (noise level, scale).
        presets: the task's preset rows.
        auto_stop: the rule ``--stop auto`` means for this problem (a network may prefer its own).
        input_for_score: the corrupted input at the output's size, scored against a reference.
        loss: the data term (None: mean squared error).
        noise: the noise model and level the data term was chosen for (for the report).
        net_input: a fixed network input at the output's size (flash/no-flash), or None.
        keep_known: return the measured entries as measured.
        tileable: whether the problem may be cut into tiles.
        tiling: when the task restores in tiles by default (None: only when the image would not fit
            ``max_memory``).
        stem: the input file's stem (snapshot names).
        net_tweaks: per network (``--net`` name) other than the preset's, what this task changes for it
            (its measured settings live with the task).

    """

    task: str
    image: ImageData
    operator: ForwardOperator
    y: torch.Tensor
    info: TaskInfo
    presets: Mapping[str, PresetRow]
    auto_stop: str = "none"
    weights: torch.Tensor | None = None
    out_alpha: np.ndarray | None = None
    input_for_score: np.ndarray | None = None
    loss: DataTerm | None = None
    noise: dict[str, Any] | None = None
    net_input: torch.Tensor | None = None
    keep_known: bool = False
    tileable: bool = True
    tiling: TileRule | None = None
    stem: str = "image"
    extra: dict[str, Any] = field(default_factory=dict)
    net_tweaks: Mapping[str, NetTweak] = field(default_factory=dict)

    @property
    def factor(self) -> int:
        """Output size / measurement size (the super-resolution factor; 1 elsewhere)."""
        return self.operator.factor

    @property
    def output_shape(self) -> tuple[int, int]:
        h, w = self.y.shape[-2:]
        return int(h) * self.factor, int(w) * self.factor


class Settings(TypedDict, total=False):
    """The settings every task shares; every key is optional (its default in brackets).

    Pass them as flat keywords (``deepprior.denoise(img, num_iter=500, seed=1)``) or whole
    (``deepprior.denoise(img, settings=deepprior.Settings(num_iter=500, seed=1))``); the CLI's common
    flags map onto them one to one (``--iters`` is ``num_iter``).

    Keys:
        preset: named settings (``fast``, ``paper``, ...) [``fast`` on a CPU, ``paper`` elsewhere].
        net: a network from the registry [the preset's].
        num_iter: the iteration cap (CLI ``--iters``) [the preset's].
        lr: Adam's learning rate [the preset's].
        seed: seeds the network's weights, its input and the perturbations [0].
        device: ``auto``, ``cpu``, ``cuda`` or ``mps`` [``auto``].
        precision: ``auto``, ``fp32``, ``bf16`` or ``fp16`` [``auto``: the preset's].
        threads: PyTorch CPU threads; a tiled fit on the CPU runs this many tiles side by side, in worker
            processes of one thread each [PyTorch's choice: the process's cores].
        stop: the stopping rule, ``auto`` (the task's measured best) or a rule's name [``auto``].
        time_limit: seconds after which the fit stops and returns its current image [none].
        quiet: no progress bar [True in the API, False in the CLI].
        callbacks: extra :class:`~deepprior.fit.loop.Callback` hooks (API only) [none].
        cancel: a flag (:class:`threading.Event`) that another thread sets to end the fit as Ctrl-C does:
            the current averaged image is returned, ``stop_reason`` ``interrupted``; a tiled run also reads it
            between tiles (API only; the web page's Stop button) [none].
        reference: the clean image, to report PSNR/SSIM; never used by the fit [none].
        snapshots: iterations at which to save the averaged image [none].
        snapshot_dir: where snapshots go [``STEM_snapshots``].
        curves: write loss/PSNR curves here (PNG; the ``viz`` extra) [none].
        animation: write the fit as an animation here (``.gif``; ``.mp4`` with imageio-ffmpeg) [none].
        compare: write corrupted | restored | reference | difference here (PNG) [none].
        tile: restore in tiles of this core size (output pixels); 0: untiled unless the image would not fit
            ``max_memory`` [the task's rule (denoising on the CPU: tiles of 128 from 384x384 pixels), else
            only when over ``max_memory``].
        overlap: pixels each tile reaches into its neighbours, cross-faded over twice that [16].
        max_memory: memory budget such as ``4GB`` [half the machine's memory].
        work_dir: save each finished tile here as it completes; only with tiling [none].
        resume: reuse the finished tiles in ``work_dir`` [False].
        max_pixels: refuse images of more pixels, read from the file's header before decoding (None: no
            limit) [100,000,000].
        output: the file the image is for (CLI ``-o``): its folder and format are checked against the
            image's depth and alpha before the fit; :meth:`Restoration.save` writes there by default [none].
        tile_map: a parallel map for the tiles of a tiled run, ``tile_map(fn, [args, ...])`` yielding
            ``fn(*args)`` in order (a batch on Ray passes its own) [none: one tile after another].

    Every value is checked before the fit (:mod:`deepprior.restore.checks`, ranges in the README's "Limits").
    The entry points parse them once into typed groups (:func:`~deepprior.restore.settings.parse_settings`).

    """

    preset: str | None
    net: str | None
    num_iter: int | None
    lr: float | None
    seed: int
    device: str
    precision: str
    threads: int | None
    stop: str
    time_limit: float | None
    quiet: bool
    callbacks: Sequence[Callback]
    cancel: CancelFlag | None
    reference: ImageSource | None
    snapshots: Sequence[int] | str | None
    snapshot_dir: str | Path | None
    curves: str | Path | None
    animation: str | Path | None
    compare: str | Path | None
    tile: int | None
    overlap: int
    max_memory: str | int | None
    work_dir: str | Path | None
    resume: bool
    max_pixels: int | None
    output: str | Path | None
    tile_map: Callable[[Callable[..., Any], list[tuple[Any, ...]]], Any] | None
