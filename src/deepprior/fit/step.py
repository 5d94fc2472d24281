"""The pieces of one fit step that every loop shares: the single fit (:class:`~deepprior.fit.loop.Fitter`),
the batched fits (:mod:`deepprior.fit.batched`) and so the tiles, which are single fits.

A loop perturbs the input, runs the network, scores the data term, asks the :class:`DivergenceGuard`
whether the step diverged (then the weights go back and the step is skipped), steps the optimiser, folds the
output into the running average (:func:`running_average`), and hands the step to
:meth:`Fitter.record <deepprior.fit.loop.Fitter.record>` (stopping rule, history, callbacks, cancel flag,
time limit), which says whether and why the fit ends.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (the perturbed input, the averaged
    output and the restart on a sudden drop of the fit, which the reference code does by reloading the
    last weights when the loss jumps).

"""

from __future__ import annotations

import math

import torch


def masked_mse(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean squared error of ``a`` against ``b`` over the entries of weight 1 (all when ``weights`` is None).

    Example:
        >>> float(masked_mse(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 0], [0, 0]]]])))
        1.0

    """
    d = (a - b) ** 2
    if weights is None:
        return d.mean()
    return (d * weights).sum() / weights.sum().clamp(min=1)


def psnr_from_mse(mse: float) -> float:
    """PSNR in dB for a peak of 1."""
    return float("inf") if mse <= 0 else -10.0 * math.log10(mse)


class DivergenceGuard:
    """Says when a step made the fit to the measurement drop by more than ``drop_db`` (PSNR of ``A(x)``
    against ``y``) from the last good step: the loop then restores that step's weights and skips it.

    Example:
        >>> guard = DivergenceGuard(drop_db=5.0)
        >>> [guard.diverged(m) for m in (1e-3, 2e-3, 1e-1, 1e-3)]
        [False, False, True, False]

    """

    def __init__(self, drop_db: float) -> None:
        self.drop_db = drop_db
        self.last_psnr: float | None = None

    def forget(self) -> None:
        """No last good step (a growing network changes on purpose while a level fades in)."""
        self.last_psnr = None

    def diverged(self, fit_mse: float) -> bool:
        """Whether this step's data-fit error ``fit_mse`` is a divergence; if not, it becomes the last good."""
        psnr_now = psnr_from_mse(fit_mse) if math.isfinite(fit_mse) else -math.inf
        if self.last_psnr is not None and psnr_now < self.last_psnr - self.drop_db:
            return True
        self.last_psnr = psnr_now
        return False


def snapshot_weights(net: torch.nn.Module, into: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """The network's weights and buffers as they are now, for the divergence guard to go back to: copied into
    ``into`` when it matches (a multi-tensor copy into the last snapshot's memory: a few kernel launches instead
    of one per tensor on a GPU, and no allocation per iteration), else fresh clones.
    """
    tensors = list(net.state_dict().values())
    if into is not None and len(into) == len(tensors) and all(
        a.shape == b.shape and a.dtype == b.dtype for a, b in zip(into, tensors, strict=True)
    ):
        with torch.no_grad():
            torch._foreach_copy_(into, tensors)
        return into
    return [t.detach().clone() for t in tensors]


def restore_weights(net: torch.nn.Module, saved: list[torch.Tensor]) -> None:
    """Put a :func:`snapshot_weights` copy back into the network."""
    with torch.no_grad():
        tensors = list(net.state_dict().values())
        n = min(len(tensors), len(saved))
        torch._foreach_copy_(tensors[:n], saved[:n])


def running_average(average: torch.Tensor | None, out: torch.Tensor, *, ema: float, restored: bool,
                    restart: bool = False) -> torch.Tensor:
    """The exponential average of the outputs after this step's ``out`` (updated in place when it can be).

    A first output, ``ema == 0`` or ``restart`` (a growing network not yet at full size) starts it anew;
    a skipped step (``restored``) leaves it as it was.

    Example:
        >>> a = running_average(None, torch.zeros(1), ema=0.5, restored=False)
        >>> running_average(a, torch.ones(1), ema=0.5, restored=False).item()
        0.5

    """
    if average is None or ema == 0 or restart:
        return out.clone()
    if not restored:
        average.mul_(ema).add_(out, alpha=1.0 - ema)
    return average


__all__ = ["DivergenceGuard", "masked_mse", "psnr_from_mse", "restore_weights", "running_average", "snapshot_weights"]
