"""What a stopping rule sees of the fit that runs it, as typed Protocols.

The rules (:mod:`deepprior.fit.stopping`) are written against these, not against
:class:`~deepprior.fit.loop.Fitter` and :class:`~deepprior.fit.loop.StepState`: the loop imports the rules,
so the rules must not import the loop (not even for type hints). The Fitter and its StepState offer every
member below; a test may hand a rule any stand-in that does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch


class LossView(Protocol):
    """The data term as a rule uses it (:class:`deepprior.fit.losses.DataTerm` offers it)."""

    @property
    def name(self) -> str: ...

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor: ...

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        """Per-entry ``E[(y - x)^2]`` under the noise model for a clean image ``x``; None if unknown."""
        ...


class BudgetView(Protocol):
    """The part of the fit's settings a rule reads (:class:`deepprior.fit.config.FitConfig` offers it)."""

    @property
    def num_iter(self) -> int: ...


class FitView(Protocol):
    """The running fit, as :meth:`StopRule.reset <deepprior.fit.stopping.StopRule.reset>` receives it.

    Attributes:
        weights: 0/1 weights of the entries of ``y`` that count, or None for all of them. Writable: the
            ``holdout`` rule takes its held-out pixels out of the fit.
        y: the measurement (padded to the network's needs).
        loss: the data term.
        operator: the forward operator ``A``.
        config: the fit's settings (the iteration cap).

    Two more members are optional and read with ``getattr`` (a stand-in fit may lack them): ``keep``, the
    entries the fit returns as measured (``keep_known``), and ``region``, ``(top, left, height, width)`` of
    the image inside the padded output.

    """

    weights: torch.Tensor | None

    @property
    def y(self) -> torch.Tensor: ...

    @property
    def loss(self) -> LossView: ...

    @property
    def operator(self) -> Callable[[torch.Tensor], torch.Tensor]: ...

    @property
    def config(self) -> BudgetView: ...


class StepView(Protocol):
    """One iteration, as :meth:`StopRule.update <deepprior.fit.stopping.StopRule.update>` receives it.

    Attributes:
        iteration: iterations completed so far (1 after the first).
        loss: the data term of this iteration.
        output: this iteration's network output.
        average: the averaged output after this iteration.
        restored: True when the divergence guard restored the weights at this iteration.

    """

    @property
    def iteration(self) -> int: ...

    @property
    def loss(self) -> float: ...

    @property
    def output(self) -> torch.Tensor: ...

    @property
    def average(self) -> torch.Tensor: ...

    @property
    def restored(self) -> bool: ...


class CancelFlag(Protocol):
    """A flag another thread sets to end a fit early (:class:`threading.Event` offers it).

    The loop reads it once per iteration; once set, the fit ends as Ctrl-C ends it: ``stop_reason`` is
    ``interrupted`` and the result holds the current averaged image. A tiled run also reads it between tiles.
    """

    def is_set(self) -> bool: ...
