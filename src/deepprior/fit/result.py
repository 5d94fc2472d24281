"""The outcome of a fit, single or batched, whatever the network, task or stopping rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class FitResult:
    """The outcome of a fit, whatever the network, task or stopping rule.

    Attributes:
        image: ``1 x C x H x W`` float32 tensor in [0, 1] on the CPU, cropped to the image region.
        history: one dict per logged iteration: ``iteration``, ``seconds`` (since the fit began, including
            the logging), ``loss``, ``psnr_input`` (averaged output
            against the measurement on the measured pixels) and ``psnr`` (against the reference, or None).
        iterations: iterations run.
        stopped_at: the iteration whose image is returned.
        stop_reason: ``max_iter``, ``interrupted``, ``time_limit`` or the stopping rule's name.
        seconds: wall time of the loop.
        guard_restores: how often the divergence guard restored the weights.

    """

    image: torch.Tensor
    history: list[dict[str, Any]]
    iterations: int
    stopped_at: int
    stop_reason: str
    seconds: float
    guard_restores: int = 0
    stop_rule: dict[str, object] = field(default_factory=dict)


__all__ = ["FitResult"]
