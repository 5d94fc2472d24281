"""Many independent fits of same-sized images in one forward and backward: one network per image.

A Deep Image Prior fit (Ulyanov, Vedaldi and Lempitsky, CVPR 2018) trains one untrained network on one
image. For tiny images (CIFAR-10's 32x32) one network barely occupies a CPU core, and most of an iteration
is overhead. :func:`run_batched` runs B such fits side by side: each image keeps its own
:class:`~deepprior.fit.loop.Fitter` (its weights as its own seed initialised them, its input ``z`` and
perturbation draws, its data term, operator, output average, divergence guard and stopping rule), and only
the network's forward and backward are batched, by stacking the B networks' weights
(``torch.func.stack_module_state``) and mapping one functional call over them (``torch.func.vmap``):
convolutions become grouped convolutions, and BatchNorm keeps per-image batch statistics. Adam is
elementwise, so one stacked Adam with a step count per image (:class:`StackedAdam`) is the B Adams of the
B serial fits. Each image's result therefore equals its own serial fit's to rounding; when an image's rule
fires it leaves the batch and the others go on.

What is not batched (:func:`batch_obstacle` names it, and callers fit those one at a time): different fit
settings or architectures, growing networks (a fresh optimiser per phase), ``torch.compile``, networks in
channels-last layout (wrong gradients under ``vmap``, measured; the layout changes no arithmetic, so build
the batch's fits without it), and half precision: autocast does not reach inside ``vmap`` (measured with
torch 2.13 on the CPU: the batched convolutions ran in float32), so a bf16 or fp16 batch would not be its
members' own fits. BatchNorm's running statistics are not tracked in the batch; the fit never reads them (it
runs in training mode throughout).

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018.

"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch.func import replace_all_batch_norm_modules_, vmap

from ..nets.common import Prior
from .loop import FitResult, Fitter, StepState
from .step import DivergenceGuard, running_average


def batch_obstacle(fitters: Sequence[Fitter]) -> str | None:
    """Why these fits cannot run as one batch, or None when they can.

    Args:
        fitters: the fits, each built as it would be for a serial run.

    Returns:
        None, or one line naming what stands in the way.

    Example:
        >>> batch_obstacle([])
        'no fits to batch'

    """
    if not fitters:
        return "no fits to batch"
    first = fitters[0]
    cfg = first.config
    if cfg.compile:
        return "torch.compile is not used in a batch"
    if cfg.precision != "fp32":
        # Measured with torch 2.13 on the CPU: under vmap the convolutions ran in float32 although autocast was
        # on (inside the mapped function too), so a bf16 batch would fit other images than its members' own fits.
        return f"{cfg.precision} autocast does not reach inside torch.func.vmap (the batch would compute in float32)"
    if cfg.channels_last:
        # Measured with torch 2.13 on the CPU: with the members' networks in channels-last layout, a batch of two
        # got a wrong gradient for the 1x1 output convolution (an update of the opposite sign; float64 too).
        # The layout changes no arithmetic of a fit, so callers build the batch's fits without it.
        return "channels-last networks get wrong gradients under torch.func.vmap (build the fits without it)"
    shapes = [(name, tuple(p.shape)) for name, p in first.net.named_parameters()]
    for f in fitters:
        if f.config != cfg:
            return "the fits' settings differ"
        if f.device != first.device:
            return "the fits run on different devices"
        if type(f.net).schedule is not Prior.schedule:
            return f"{type(f.net).__name__} grows during the fit (a fresh optimiser per phase)"
        if type(f.net) is not type(first.net) or [(n, tuple(p.shape)) for n, p in f.net.named_parameters()] != shapes:
            return "the networks differ"
        if f.z.shape != first.z.shape or f.y.shape != first.y.shape:
            return "the images differ in size"
    return None


class StackedAdam:
    """Adam on stacked weights (the first dimension indexes the fits), with one step count per fit.

    The arithmetic is :class:`torch.optim.Adam`'s (no weight decay, no AMSGrad), operation for operation,
    with the bias corrections computed per fit as Python floats as Adam does, so each fit's slice moves
    as its own Adam would move it. A fit may skip a step (its divergence guard restored its weights): its
    weights, moments and step count are left as they were.

    Args:
        params: the stacked weights, ``B x ...`` each.
        lr: the learning rate.
        betas: Adam's ``(beta1, beta2)``.
        eps: Adam's epsilon.

    References:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

    Example:
        >>> w = torch.zeros(2, 3, requires_grad=True)
        >>> opt = StackedAdam([w], lr=0.1)
        >>> w.grad = torch.ones(2, 3)
        >>> opt.step(skip=[False, True])
        >>> [round(v, 6) for v in w[:, 0].tolist()], opt.steps
        ([-0.1, 0.0], [1, 0])

    """

    def __init__(self, params: Sequence[torch.Tensor], *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        size = self.params[0].shape[0] if self.params else 0
        self.steps = [0] * size
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]

    def keep(self, rows: torch.Tensor, params: Sequence[torch.Tensor]) -> None:
        """Keep only the fits at ``rows`` (indices into the batch), and use ``params`` (those rows) from now on."""
        self.params = list(params)
        kept = rows.tolist()
        self.steps = [self.steps[i] for i in kept]
        self.exp_avg = [m.index_select(0, rows.to(m.device)) for m in self.exp_avg]
        self.exp_avg_sq = [v.index_select(0, rows.to(v.device)) for v in self.exp_avg_sq]

    @torch.no_grad()
    def step(self, skip: Sequence[bool] | None = None) -> None:
        """One Adam step for every fit not in ``skip`` (True: leave that fit as it is)."""
        beta1, beta2 = self.betas
        skipped = [i for i, s in enumerate(skip or ()) if s]
        moving = [i for i in range(len(self.steps)) if i not in set(skipped)]
        if not moving:
            return
        for i in moving:
            self.steps[i] += 1
        # the bias corrections as Adam computes them (Python floats), per fit; a skipped fit's are unused
        steps = [float(max(s, 1)) for s in self.steps]
        step_size = [-(self.lr / (1 - beta1**s)) for s in steps]
        bc2_sqrt = [(1 - beta2**s) ** 0.5 for s in steps]
        device = self.params[0].device
        # float64 here, rounded to each weight's dtype below, as Adam rounds its Python scalars
        neg_step = torch.tensor(step_size, dtype=torch.float64, device=device)
        bc2 = torch.tensor(bc2_sqrt, dtype=torch.float64, device=device)
        rows = torch.tensor(skipped, dtype=torch.long, device=device)
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            kept = (p.index_select(0, rows), m.index_select(0, rows), v.index_select(0, rows)) if skipped else None
            shape = (-1,) + (1,) * (p.dim() - 1)
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / bc2.view(shape).to(v.dtype)).add_(self.eps)
            # addcdiv_(m, denom, value=s) computes p + (s * m) / denom: the same order here
            p.add_((neg_step.view(shape).to(p.dtype) * m) / denom)
            if kept is not None:
                p.index_copy_(0, rows, kept[0])
                m.index_copy_(0, rows, kept[1])
                v.index_copy_(0, rows, kept[2])


class _Member:
    """One fit's running state inside the batch (what ``Fitter.iterate`` keeps in local variables)."""

    def __init__(self, fitter: Fitter) -> None:
        self.fitter = fitter
        self.z_base = fitter.z
        self.average: torch.Tensor | None = None
        self.guard = DivergenceGuard(fitter.config.guard_drop_db)
        self.history: list[dict[str, Any]] = []
        self.state: StepState | None = None


class _Functional:
    """The template network as a function of its weights: ``f(tensors, z)``, for ``vmap``.

    ``torch.func.functional_call`` does the same, but swaps every tensor in by its dotted name on each call
    (a walk over the modules per tensor: about a tenth of a batched iteration at 32x32 here); this finds each
    tensor's module once and sets it there as a plain attribute.
    """

    def __init__(self, template: torch.nn.Module, names: Sequence[str]) -> None:
        self.template = template
        self.slots: list[tuple[torch.nn.Module, str]] = []
        for name in names:
            owner, _, attr = name.rpartition(".")
            module = template.get_submodule(owner)
            module._parameters.pop(attr, None)
            module._buffers.pop(attr, None)
            self.slots.append((module, attr))

    def __call__(self, tensors: Sequence[torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        for (module, attr), tensor in zip(self.slots, tensors, strict=True):
            module.__dict__[attr] = tensor
        out: torch.Tensor = self.template(z)
        return out


def _stack(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    # contiguous: with channels-last weights stacked as they are, the batched fit went wrong (measured with
    # torch 2.13 on the CPU, in float64 too: 3 dB off its own fits after 200 iterations)
    return torch.stack([t.detach().contiguous() for t in tensors]).requires_grad_(True)


def run_batched(fitters: Sequence[Fitter], *, batch_size: int | None = None) -> list[FitResult]:
    """Run the fits as one batch (or several of ``batch_size``); each result as its own ``Fitter.run()`` would be.

    Each fit's stopping rule, callbacks, history, guard and time limit behave as in
    :meth:`Fitter.run <deepprior.fit.loop.Fitter.run>`; the time limit and ``seconds`` count from the start of
    the batch. When an image's fit ends (:meth:`Fitter.record <deepprior.fit.loop.Fitter.record>`: its rule,
    its ``cancel`` flag, its time limit), its result is taken and it leaves the batch. Ctrl-C ends every fit
    still running with ``stop_reason="interrupted"``.

    Args:
        fitters: the fits, built as for a serial run (:func:`batch_obstacle` must find nothing in the way).
        batch_size: at most this many fits at once (None: all).

    Returns:
        One :class:`~deepprior.fit.loop.FitResult` per fit, in order.

    Raises:
        ValueError: when :func:`batch_obstacle` names an obstacle.

    Example:
        >>> from deepprior.nets import build_net, SkipConfig
        >>> from deepprior.physics import Identity
        >>> from deepprior.fit.config import FitConfig
        >>> cfg = FitConfig(num_iter=3, input_depth=4)
        >>> def fitter(seed):
        ...     torch.manual_seed(seed)
        ...     net = build_net("skip", in_channels=4, out_channels=1, config=SkipConfig((8, 8), (8, 8), (2, 2)))
        ...     return Fitter(net, Identity(), torch.rand(1, 1, 16, 16), config=cfg, seed=seed)
        >>> [r.iterations for r in run_batched([fitter(0), fitter(1)])]
        [3, 3]

    """
    reason = batch_obstacle(fitters)
    if reason is not None:
        raise ValueError(f"these fits cannot run as one batch: {reason}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch size {batch_size} must be at least 1")
    size = len(fitters) if batch_size is None else batch_size
    results: list[FitResult] = []
    for begin in range(0, len(fitters), size):
        results += _run_one_batch(list(fitters[begin : begin + size]))
    return results


def _run_one_batch(fitters: list[Fitter]) -> list[FitResult]:
    first = fitters[0]
    cfg = first.config
    # One functional template on the meta device: BatchNorm without running statistics (vmap cannot update
    # them in place; the fit, in training mode, never reads them).
    template = copy.deepcopy(first.net).to("meta")
    replace_all_batch_norm_modules_(template)
    template.train()
    names = [n for n, _ in template.named_parameters()]
    buffer_names = [n for n, _ in template.named_buffers()]
    own = [dict(f.net.named_parameters()) for f in fitters]
    own_buffers = [dict(f.net.named_buffers()) for f in fitters]
    params = [_stack([p[n] for p in own]) for n in names]
    buffers = [torch.stack([b[n].detach().contiguous() for b in own_buffers]) for n in buffer_names]
    batched_forward = vmap(_Functional(template, [*names, *buffer_names]))
    adam = StackedAdam(params, lr=cfg.lr)
    saved = [p.detach().clone() for p in params] if cfg.guard else []
    members = [_Member(f) for f in fitters]
    results: dict[int, FitResult] = {}
    active = list(range(len(fitters)))  # indices of the fits still in the batch, in batch order
    start = time.perf_counter()
    for f in fitters:
        f.guard_restores = 0
        f.net.train()
        f.stop.reset(f)
        for cb in f.callbacks:
            cb.on_start(f)
    reason = "max_iter"
    try:
        for it in range(1, cfg.num_iter + 1):
            for p in params:
                p.grad = None
            zs = []
            for i in active:
                z, members[i].z_base = members[i].fitter.perturbed_input(members[i].z_base)
                zs.append(z)
            with first.autocast():
                out_all = batched_forward([*params, *buffers], torch.stack([z.contiguous() for z in zs]))
            out_all = out_all.float()
            losses: list[torch.Tensor] = []
            restored: list[bool] = []
            values: list[float] = []
            for row, i in enumerate(active):
                f, m = members[i].fitter, members[i]
                pred = f.operator(out_all[row])
                loss = f.loss(pred, f.y, f.weights)
                value = float(loss.detach())
                values.append(value)
                was_restored = bool(cfg.guard and m.guard.diverged(f.fit_mse(pred, value)))
                f.guard_restores += was_restored
                restored.append(was_restored)
                if not was_restored:
                    losses.append(loss)
            if losses:
                torch.stack(losses).sum().backward()
            if cfg.guard:
                with torch.no_grad():
                    rows = torch.tensor([r for r, x in enumerate(restored) if x], dtype=torch.long,
                                        device=first.device)
                    if len(rows):  # the guard: these fits go back to their last good weights
                        for p, s in zip(params, saved, strict=True):
                            p.index_copy_(0, rows, s.index_select(0, rows))
                    torch._foreach_copy_(saved, [p.detach() for p in params])
            adam.step(skip=restored)
            out_all = out_all.detach()
            leaving: list[int] = []
            for row, i in enumerate(active):
                m, f = members[i], members[i].fitter
                out = out_all[row]
                m.average = running_average(m.average, out, ema=cfg.ema, restored=restored[row])
                state = StepState(iteration=it, loss=values[row], output=out, average=m.average, fitter=f,
                                  restored=restored[row])
                m.state = state
                ended = f.record(state, m.history, start)  # the rule, history, callbacks, cancel, time limit
                if ended is not None:
                    results[i] = _finish(f, m, params, row, ended, start)
                    leaving.append(row)
            if leaving:
                keep = [r for r in range(len(active)) if r not in set(leaving)]
                rows = torch.tensor(keep, dtype=torch.long, device=first.device)
                params = [p.detach().index_select(0, rows).requires_grad_(True) for p in params]
                buffers = [b.index_select(0, rows) for b in buffers]
                saved = [s.index_select(0, rows) for s in saved]
                adam.keep(rows, params)
                active = [active[r] for r in keep]
                if not active:
                    break
    except KeyboardInterrupt:
        reason = "interrupted"
    for row, i in enumerate(active):
        if i in results:  # interrupted after its rule fired, before it left the batch
            continue
        results[i] = _finish(members[i].fitter, members[i], params, row, reason, start)
    return [results[i] for i in range(len(fitters))]


def _finish(f: Fitter, m: _Member, params: list[torch.Tensor], row: int, reason: str, start: float) -> FitResult:
    """Write the fit's weights back into its own network and take its result as ``Fitter.run`` would."""
    with torch.no_grad():
        for own, stacked in zip(f.net.parameters(), params, strict=True):
            own.copy_(stacked[row])
    return f.finish(m.state, m.history, reason, start)


__all__ = ["StackedAdam", "batch_obstacle", "run_batched"]
