"""Resolve the shared settings for one problem: preset, network, fit settings, device, stopping rule.

Everything that can be checked is checked here, before any fitting starts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..fit.config import FitConfig
from ..fit.stopping import check_stop_name
from ..nets import NetEntry, get_entry
from ..nets.common import NetConfig
from ..presets import resolve_preset
from .checks import check_seed
from .problem import NetTweak, Problem
from .settings import FitSettings


@dataclass(frozen=True)
class Resolved:
    """What the settings resolve to for one problem.

    Attributes:
        preset: the preset's name.
        net: the network's name.
        entry: its registry entry.
        net_config: its architecture.
        fit: the fit's settings.
        precision: ``fp32``, ``bf16`` or ``fp16``.
        device: where it runs.
        threads: PyTorch's intra-op threads.
        stop: the stopping rule's name (``auto`` resolved).
        requested_stop: the rule as asked for (``auto`` or a name).
        seed: the seed.
        net_input: the network's fixed input, when the problem or the network sets one.

    """

    preset: str
    net: str
    entry: NetEntry
    net_config: NetConfig
    fit: FitConfig
    precision: str
    device: torch.device
    threads: int
    stop: str
    requested_stop: str
    seed: int
    net_input: torch.Tensor | None = None


def auto_stop(requested: str, problem: Problem, entry: NetEntry) -> str:
    """What ``--stop auto`` means: the network's own rule where it has one (the Deep Decoder keeps the
    output of lowest loss), else the problem's (chosen by its task from the measurements).
    """
    if requested != "auto":
        return requested
    return entry.auto_stop if entry.auto_stop is not None else problem.auto_stop


def with_layout(fit: FitConfig, precision: str) -> FitConfig:
    """``fit`` with channels-last kept only in reduced precision.

    The `fast` presets ask for channels-last, which pays with bfloat16 on CPUs that compute it natively. In
    float32 it ran 1.24-1.48x slower per iteration on a CPU (a 2-core AMD EPYC with AVX2, `fast`'s network on
    grey images of 160-512 pixels: ``benchmarks/studies/layout_time.py``), and on CUDA it was dropped in float32
    before that measurement (not timed here).
    """
    return fit.updated(channels_last=False) if fit.channels_last and precision == "fp32" else fit


def resolve(problem: Problem, s: FitSettings) -> Resolved:
    """Resolve the fit's settings ``s`` (parsed: :func:`~deepprior.restore.settings.parse_settings`) for
    ``problem``.
    """
    from ..device import resolve_device, resolve_precision, set_threads

    seed = check_seed(s.seed)
    check_stop_name(s.stop)  # an unknown rule fails before any work
    torch_device = resolve_device(s.device)
    preset_name = s.preset if s.preset is not None else ("fast" if torch_device.type == "cpu" else "paper")
    chosen = resolve_preset(preset_name, problem.info, problem.presets)
    net_name = s.net if s.net is not None else chosen.net
    entry = get_entry(net_name)
    net_config = chosen.net_config if net_name == chosen.net else entry.config
    precision = resolve_precision(s.precision, chosen.precision, torch_device)
    threads = set_threads(s.threads)
    fit = chosen.fit.updated(num_iter=s.num_iter, lr=s.lr, precision=precision, time_limit=s.time_limit)
    net_input = problem.net_input
    if net_name != chosen.net:  # another network than the preset's: its registry entry's own settings
        tweak = problem.net_tweaks.get(net_name, NetTweak())  # what the task measured for this network
        net_config = dataclasses.replace(net_config, **tweak.config)  # type: ignore[type-var]
        fit = fit.updated(**{"input_depth": entry.input_depth, **entry.fit_overrides, **tweak.fit})
        if tweak.upscaled_input and net_input is None:  # the measurement as the input
            up = torch.nn.functional.interpolate(problem.y, scale_factor=problem.factor, mode="bicubic",
                                                 align_corners=False)
            net_input = up.clamp(0, 1)
    if net_input is not None:
        if not entry.takes_image_input:
            raise ConfigError(f"network {net_name!r} takes its own coarse input; it cannot take an image as input")
        fit = fit.updated(input_depth=int(net_input.shape[1]), input_type="noise")
    fit = with_layout(fit, precision)
    stop = auto_stop(s.stop, problem, entry)
    return Resolved(preset_name, net_name, entry, net_config, fit, precision, torch_device, threads, stop,
                    s.stop, seed, net_input)


def scales_for(side: int, wanted: int) -> int:
    """How many levels fit a side: the deepest feature map keeps at least 2 pixels."""
    return max(1, min(wanted, int(math.floor(math.log2(side))) - 1))
