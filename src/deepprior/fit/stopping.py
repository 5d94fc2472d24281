"""Stopping rules: one class per criterion behind one interface.

A rule sees every iteration's :class:`~deepprior.fit.loop.StepState` and answers whether to stop; it may
also name the iteration whose image the fit returns (for example the minimum of a statistic). ``--iters``
is always a cap: the loop ends there whatever the rule says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .loop import Fitter, StepState


class StopRule:
    """Interface of a stopping rule.

    ``reset`` is called once before the first iteration, ``update`` after every iteration (returning True
    stops the fit), and ``chosen`` at the end: None means "return the current averaged image", otherwise
    an ``(iteration, image)`` pair chosen by the rule.
    """

    name: str = "none"

    def reset(self, fitter: Fitter) -> None:
        """Forget any state from an earlier fit."""

    def update(self, state: StepState) -> bool:
        return False

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None

    def describe(self) -> dict[str, object]:
        """The rule's settings, for the report."""
        return {"name": self.name}


class NoStop(StopRule):
    """``none``: run exactly to the iteration cap and return the averaged image of the last iteration."""

    name = "none"


STOP_RULES: dict[str, Callable[[], StopRule]] = {
    "none": NoStop,
}


def make_stop_rule(name: str) -> StopRule:
    """A fresh rule by name (see :data:`STOP_RULES`)."""
    if name not in STOP_RULES:
        raise ConfigError(f"unknown stopping rule {name!r}; expected one of {', '.join(STOP_RULES)}")
    return STOP_RULES[name]()
