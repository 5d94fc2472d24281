"""The fitting loop: one object with injected parts, serving every network and every task.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (input perturbation, output averaging,
    and the divergence guard of the reference code).

"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError
from ..nets.common import Prior
from ..physics.base import ForwardOperator
from .config import FitConfig
from .inputs import make_input
from .losses import MSE, DataTerm
from .protocols import CancelFlag
from .result import FitResult
from .seeding import generator_seed
from .step import DivergenceGuard, masked_mse, psnr_from_mse, restore_weights, running_average, snapshot_weights
from .stopping import NoStop, StopRule


@dataclass
class StepState:
    """What callbacks and stopping rules see after each iteration (the rules read it through
    :class:`~deepprior.fit.protocols.StepView`, as they read the Fitter through ``FitView``).

    Attributes:
        iteration: iterations completed so far (1 after the first).
        loss: the data term of this iteration (the fit's loss on the measured entries; MSE by default).
        output: this iteration's network output (padded size, float32, detached).
        average: the averaged output after this iteration (padded size, float32).
        fitter: the running fit (for its measurement, weights and helpers).
        restored: True when the divergence guard restored the weights at this iteration.

    """

    iteration: int
    loss: float
    output: torch.Tensor
    average: torch.Tensor
    fitter: Fitter
    restored: bool = False


class Callback:
    """Hooks into a fit; every method is optional."""

    def on_start(self, fitter: Fitter) -> None:
        """Called once before the first iteration."""

    def on_step(self, state: StepState) -> None:
        """Called after every iteration."""

    def on_end(self, result: FitResult) -> None:
        """Called once with the result."""


class Fitter:
    """Fits an untrained network so that ``A(net(z))`` matches the measurement ``y``.

    Args:
        net: the prior (any module mapping ``1 x input_depth x H x W`` to ``1 x C x H x W``).
        operator: the forward operator ``A`` (identity, mask, downsampling, ...).
        y: the measurement, ``1 x C x h x w`` (padded to the network's needs).
        config: the loop's settings.
        weights: 0/1 weights of the entries of ``y`` that count (padding and missing pixels are 0);
            None counts every entry.
        region: ``(top, left, height, width)`` of the real image inside the network's output; the
            result and the reference PSNR are taken there. None: the whole output.
        stop: the stopping rule (default: none, run to ``config.num_iter``).
        callbacks: hooks called every iteration (progress bars, snapshots).
        reference: the clean image (``1 x C x height x width``), only to score the history.
        device: where to run.
        seed: seeds the input ``z`` and its perturbations (the network's weights are seeded by whoever
            builds it).
        loss: the data term (default: mean squared error); see :mod:`deepprior.fit.losses`.
        net_input: a fixed input ``z`` (``1 x input_depth x H x W``, e.g. the flash image of a flash/no-flash
            pair) instead of the random one the config describes.
        keep_known: return the measured entries of ``y`` as measured and the network's image only where
            nothing was measured (data consistency, for noise-free inpainting; the operator must map the
            image to ``y`` entry for entry). Where the data term knows which entries its noise left exact
            (``DataTerm.exact``: for salt-and-pepper, the pixels not pure black or white), only those. The history's
            reference PSNR scores that image too.
        cancel: a flag read after every iteration (:class:`threading.Event`, set by another thread: a web
            page's Stop button); once set, the fit ends as Ctrl-C ends it, with the current averaged image.

    Example:
        >>> from deepprior.nets import build_net, SkipConfig
        >>> from deepprior.physics import Identity
        >>> torch.manual_seed(0) and None
        >>> net = build_net("skip", in_channels=4, out_channels=1,
        ...                 config=SkipConfig((8, 8), (8, 8), (2, 2)))
        >>> y = torch.rand(1, 1, 16, 16)
        >>> r = Fitter(net, Identity(), y, config=FitConfig(num_iter=3, input_depth=4)).run()
        >>> r.iterations, r.stop_reason, tuple(r.image.shape)
        (3, 'max_iter', (1, 1, 16, 16))

    """

    def __init__(
        self,
        net: Prior,
        operator: ForwardOperator,
        y: torch.Tensor,
        *,
        config: FitConfig,
        weights: torch.Tensor | None = None,
        region: tuple[int, int, int, int] | None = None,
        stop: StopRule | None = None,
        callbacks: Sequence[Callback] = (),
        reference: torch.Tensor | None = None,
        device: torch.device | str = "cpu",
        seed: int = 0,
        loss: DataTerm | None = None,
        net_input: torch.Tensor | None = None,
        keep_known: bool = False,
        cancel: CancelFlag | None = None,
    ) -> None:
        self.config = config
        self.cancel = cancel
        self.loss: DataTerm = loss if loss is not None else MSE()
        self.device = torch.device(device)
        self._factor = operator.factor
        self.net = net.to(self.device)
        #: the forward operator, called as a function (an ``nn.Module``: moved to the device)
        self.operator: Callable[[torch.Tensor], torch.Tensor] = (
            operator.to(self.device) if isinstance(operator, torch.nn.Module) else operator.A
        )
        self.y = y.to(self.device, torch.float32)
        measured = operator.measured(self.y)
        if weights is not None:
            weights = weights.to(self.device, torch.float32).expand_as(self.y)
            measured = weights if measured is None else measured * weights
        self.weights: torch.Tensor | None = measured
        self.keep: torch.Tensor | None = None  # entries returned as measured (a copy: rules may change weights)
        if keep_known:
            if operator.factor != 1:
                raise ConfigError("keep_known needs an operator that measures the image entry for entry")
            self.keep = (measured if measured is not None else torch.ones_like(self.y)).clone()
            exact = self.loss.exact(self.y)  # e.g. salt-and-pepper: the pixels not pure black or white
            if exact is not None:
                self.keep = self.keep * exact.to(self.keep)
        self.stop = stop if stop is not None else NoStop()
        self.callbacks = list(callbacks)
        self.reference = None if reference is None else reference.to(self.device, torch.float32)
        self.seed = seed
        self.generator = torch.Generator(device=self.device).manual_seed(generator_seed(seed))
        cpu_gen = torch.Generator().manual_seed(generator_seed(seed))
        self._region = region
        if config.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.input_shape: tuple[int, int] = self._infer_input_shape()
        if net_input is not None:
            if net_input.dim() != 4 or net_input.shape[1] != config.input_depth:
                raise ConfigError(f"the network input has shape {tuple(net_input.shape)}; expected 1 x "
                                  f"{config.input_depth} x H x W")
            z = net_input.to(self.device, torch.float32)
        else:
            z = make_input(
                config.input_type, config.input_depth, *self.input_shape, scale=config.input_scale,
                generator=cpu_gen,
            ).to(self.device)
        self.z = z.contiguous(memory_format=torch.channels_last) if config.channels_last else z
        #: what runs the network in the loop: the module itself, or its compiled form (same parameters)
        self.forward: Callable[[torch.Tensor], torch.Tensor] = (
            torch.compile(self.net) if config.compile else self.net  # type: ignore[assignment]
        )
        self.optimizer = self._adam()
        self.guard_restores = 0
        self._scaler: Any = None
        if config.precision == "fp16" and self.device.type == "cuda":
            self._scaler = torch.amp.GradScaler("cuda")

    def _adam(self) -> torch.optim.Optimizer:
        """Adam at the configured rate; on CUDA its fused form (one kernel for all parameters)."""
        fused = self.device.type == "cuda"
        return torch.optim.Adam(self.net.parameters(), lr=self.config.lr, fused=True if fused else None)

    def _infer_input_shape(self) -> tuple[int, int]:
        """Spatial size of the network's input: the output's (the measurement's times the operator's
        factor), unless the network asks for another.
        """
        factor = self._factor
        h, w = self.y.shape[-2] * factor, self.y.shape[-1] * factor
        return self.net.input_size(h, w)  # e.g. the Deep Decoder's coarse input

    @property
    def region(self) -> tuple[int, int, int, int] | None:
        """``(top, left, height, width)`` of the image inside the network's output; None: the whole output."""
        return self._region

    def crop(self, image: torch.Tensor) -> torch.Tensor:
        """Cut the image region out of a padded network output."""
        if self._region is None:
            return image
        top, left, h, w = self._region
        return image[..., top : top + h, left : left + w]

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The precision context of the forward pass."""
        precision = self.config.precision
        if precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def data_mse(self, image: torch.Tensor) -> float:
        """Mean squared error between ``A(image)`` and ``y`` on the measured entries."""
        with torch.no_grad():
            return float(masked_mse(self.operator(image), self.y, self.weights))

    def present(self, image: torch.Tensor) -> torch.Tensor:
        """The image the fit returns for a network output: with ``keep_known``, the measured entries as measured."""
        if self.keep is None:
            return image
        return image * (1 - self.keep) + self.y * self.keep

    def psnr_reference(self, image: torch.Tensor) -> float | None:
        """PSNR of the image region (as returned: :meth:`present`) against the reference (None without one)."""
        if self.reference is None:
            return None
        with torch.no_grad():
            x = self.crop(self.present(image)).clamp(0, 1)
            return psnr_from_mse(float(((x - self.reference) ** 2).mean()))

    def perturbed_input(self, z_base: torch.Tensor, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """The input of this iteration, and the base to keep for the next one."""
        std = self.config.reg_noise_std * scale
        if std <= 0:
            return z_base, z_base
        noise = torch.randn(z_base.shape, generator=self.generator, device=self.device) * std
        z = z_base + noise
        if self.config.channels_last:
            z = z.contiguous(memory_format=torch.channels_last)
        if self.config.reg_noise_mode == "accumulate":
            return z, z
        return z, z_base

    def iterate(self) -> Iterator[StepState]:
        """Run the fit one iteration at a time (``run`` drives this; exposed for custom loops)."""
        cfg = self.config
        self.net.train()
        z_base = self.z
        average: torch.Tensor | None = None
        saved = snapshot_weights(self.net) if cfg.guard else []
        guard = DivergenceGuard(cfg.guard_drop_db)
        # A growing network (PG-DIP) sets its stage per iteration and asks for a fresh optimiser, a
        # learning-rate warm-up, a scaled perturbation, and averaging only once fully grown.
        for it in range(1, cfg.num_iter + 1):
            phase = self.net.schedule(it)
            if phase is not None:
                if phase.new_phase and it > 1:
                    self.optimizer = self._adam()
                for group in self.optimizer.param_groups:
                    group["lr"] = cfg.lr * phase.lr_scale
            self.optimizer.zero_grad(set_to_none=True)
            z, z_base = self.perturbed_input(z_base, 1.0 if phase is None else phase.noise_scale)
            with self.autocast():
                out = self.forward(z)
            out = out.float()
            pred = self.operator(out)
            loss = self.loss(pred, self.y, self.weights)
            loss_value = float(loss.detach())
            restored = False
            if phase is not None and (phase.new_phase or phase.alpha < 1.0):
                # A growing network changes on purpose while a level fades in: its fit may drop by more
                # than the guard's margin (on noise-free SR data, from 45 dB), which is not a divergence.
                guard.forget()
            if cfg.guard:
                if guard.diverged(self.fit_mse(pred, loss_value)):
                    restore_weights(self.net, saved)
                    self.guard_restores += 1
                    restored = True
                else:
                    saved = snapshot_weights(self.net, into=saved)
            if not restored:
                if self._scaler is not None:
                    self._scaler.scale(loss).backward()
                    self._scaler.step(self.optimizer)
                    self._scaler.update()
                else:
                    loss.backward()
                    self.optimizer.step()
            out = out.detach()
            average = running_average(average, out, ema=cfg.ema, restored=restored,
                                      restart=phase is not None and not phase.average)
            yield StepState(
                iteration=it, loss=loss_value, output=out, average=average, fitter=self, restored=restored
            )

    def fit_mse(self, pred: torch.Tensor, loss_value: float) -> float:
        """The data-fit error the divergence guard watches: the loss itself when it is the MSE."""
        return loss_value if self.loss.is_mse else float(masked_mse(pred.detach(), self.y, self.weights))

    def log_entry(self, state: StepState, seconds: float) -> dict[str, Any]:
        """The history's entry for ``state``: iteration, seconds, loss, PSNR against the input (and reference)."""
        return {
            "iteration": state.iteration,
            "seconds": round(seconds, 3),
            "loss": state.loss,
            "psnr_input": round(psnr_from_mse(self.data_mse(state.average)), 4),
            "psnr": None if self.reference is None else round(self.psnr_reference(state.average) or 0.0, 4),
        }

    def run(self) -> FitResult:
        """Fit until the stopping rule fires, the iteration cap, the time limit, or an interrupt.

        Ctrl-C (KeyboardInterrupt) during the loop, or the ``cancel`` flag found set after an iteration, ends
        the fit with ``stop_reason="interrupted"`` and the current averaged image; the interrupt does not
        propagate.
        """
        self.guard_restores = 0
        self.stop.reset(self)
        for cb in self.callbacks:
            cb.on_start(self)
        history: list[dict[str, Any]] = []
        state: StepState | None = None
        reason = "max_iter"
        start = time.perf_counter()
        try:
            for state in self.iterate():
                ended = self.record(state, history, start)
                if ended is not None:
                    reason = ended
                    break
        except KeyboardInterrupt:
            reason = "interrupted"
        return self.finish(state, history, reason, start)

    def record(self, state: StepState, history: list[dict[str, Any]], start: float) -> str | None:
        """After a step (of this fit alone or in a batch): the stopping rule, the history, the callbacks; then
        why the fit ends here (the rule's name, ``interrupted`` for a set ``cancel`` flag, ``time_limit``), or
        None to go on. ``start`` is the loop's ``time.perf_counter()`` start.
        """
        cfg = self.config
        fired = self.stop.update(state)
        if state.iteration % cfg.log_every == 0 or state.iteration == 1:
            history.append(self.log_entry(state, time.perf_counter() - start))
        for cb in self.callbacks:
            cb.on_step(state)
        if fired:
            return self.stop.name
        if self.cancel is not None and self.cancel.is_set():
            return "interrupted"
        if cfg.time_limit is not None and time.perf_counter() - start >= cfg.time_limit:
            return "time_limit"
        return None

    def finish(self, state: StepState | None, history: list[dict[str, Any]], reason: str,
               start: float) -> FitResult:
        """The result of a fit that ended after ``state`` (None: no iteration ran) for ``reason``: the stopping
        rule's chosen image or the last averaged one, cropped and clamped (``run`` and the batched loop of
        :mod:`deepprior.fit.batched` end here alike). ``start`` is the loop's ``time.perf_counter()`` start.
        """
        seconds = time.perf_counter() - start
        iterations = 0 if state is None else state.iteration
        if state is not None and (not history or history[-1]["iteration"] != iterations):
            history.append(self.log_entry(state, time.perf_counter() - start))
        chosen = self.stop.chosen() if (reason == self.stop.name or self.stop.choose_at_end) else None
        if chosen is not None:
            stopped_at, image = chosen
        elif state is not None:
            stopped_at, image = iterations, state.average
        else:
            with torch.no_grad(), self.autocast():
                image = self.net(self.z).float()
            stopped_at = 0
        result = FitResult(
            image=self.crop(self.present(image.detach().float())).clamp(0, 1).cpu(),
            history=history,
            iterations=iterations,
            stopped_at=stopped_at,
            stop_reason=reason,
            seconds=seconds,
            guard_restores=self.guard_restores,
            stop_rule=self.stop.describe(),
        )
        for cb in self.callbacks:
            cb.on_end(result)
        return result
