"""``min-loss``: run to the cap and return the output of the iteration with the lowest data loss."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...errors import ConfigError
from ..protocols import FitView, StepView
from .base import StopRule


@dataclass(frozen=True)
class MinLossConfig:
    """Settings of :class:`MinLoss`.

    Attributes:
        check_every: iterations between looks at the loss; 1, every iteration, as the Deep Decoder's
            reference keeps the network of lowest training loss over all of them.

    """

    check_every: int = 1

    def __post_init__(self) -> None:
        if self.check_every < 1:
            raise ConfigError(f"min-loss needs check_every >= 1, got {self.check_every}")


class MinLoss(StopRule):
    """``min-loss``: run to the cap and return the output of the iteration with the lowest data loss.

    The Deep Decoder's reference keeps the network of lowest training loss (its under-parameterisation,
    not early stopping, is what keeps the noise out). The loss is checked every ``config.check_every``
    iterations (every one by default); the output kept is the averaged one (the plain output when
    averaging is off, as in the Deep Decoder preset). Iterations the divergence guard undid do not count.

    Args:
        config: the rule's settings (default: :class:`MinLossConfig`).

    References:
        Heckel and Hand, "Deep Decoder: Concise Image Representations from Untrained Non-convolutional
        Networks", ICLR 2019.

    """

    name = "min-loss"
    choose_at_end = True

    def __init__(self, *, config: MinLossConfig | None = None) -> None:
        self.config = config if config is not None else MinLossConfig()

    def reset(self, fitter: FitView) -> None:
        self.best_loss = math.inf
        self.best_iteration = 0
        self._best: torch.Tensor | None = None

    def update(self, state: StepView) -> bool:
        if state.iteration % self.config.check_every:
            return False
        if math.isfinite(state.loss) and state.loss < self.best_loss and not state.restored:
            self.best_loss = state.loss
            self.best_iteration = state.iteration
            self._best = state.average.detach().clone()
        return False

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None if self._best is None else (self.best_iteration, self._best)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "best_iteration": self.best_iteration, "best_loss": self.best_loss}
