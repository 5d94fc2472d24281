"""The interface every stopping rule implements, and the rule that never stops."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

import torch

from ..protocols import FitView, StepView

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed import DataclassInstance

_Config = TypeVar("_Config", bound="DataclassInstance")


class StopRule:
    """Interface of a stopping rule.

    ``reset`` is called once before the first iteration, ``update`` after every iteration (returning True
    stops the fit), and ``chosen`` at the end: None means "return the current averaged image", otherwise
    an ``(iteration, image)`` pair chosen by the rule.
    """

    name: str = "none"
    #: whether ``chosen`` applies however the fit ended (cap, time limit), not only when the rule fired
    choose_at_end: bool = False

    def reset(self, fitter: FitView) -> None:
        """Forget any state from an earlier fit."""

    def update(self, state: StepView) -> bool:
        return False

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None

    def describe(self) -> dict[str, object]:
        """The rule's settings (and what it saw), for the report."""
        return {"name": self.name}

    @classmethod
    def for_fit(cls, *, sigma: float | None = None, num_iter: int | None = None) -> StopRule:
        """The rule as :func:`~deepprior.fit.stopping.make_stop_rule` builds it for a fit.

        Args:
            sigma: the Gaussian noise level on the 0-255 scale, when known.
            num_iter: the fit's iteration cap, when known.

        Returns:
            A fresh rule; here with its default settings (a rule whose settings depend on the noise level
            or the budget overrides this).

        """
        return cls()


class StopBuilder(Protocol):
    """What :data:`~deepprior.fit.stopping.STOP_RULES` maps a name to: a fresh rule for a fit."""

    def __call__(self, *, sigma: float | None = None, num_iter: int | None = None) -> StopRule: ...


class NoStop(StopRule):
    """``none``: run exactly to the iteration cap and return the averaged image of the last iteration."""

    name = "none"


def with_overrides(config: _Config, **given: object) -> _Config:
    """``config`` with the fields named in ``given`` replaced, except those given as None.

    A rule's keyword arguments are shortcuts for fields of its config: ``WindowedVariance(window=10)`` is
    ``WindowedVariance(config=WMVConfig(window=10))``; None leaves the config's value.
    """
    changes = {key: value for key, value in given.items() if value is not None}
    return replace(config, **changes) if changes else config
