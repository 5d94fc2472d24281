"""Choosing the device, the precision and the number of threads."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import torch

from .errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("auto", "fp32", "bf16", "fp16")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; a named device must exist."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise ConfigError(f"unknown device {name!r}; expected one of {', '.join(DEVICES)}")
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_ok else torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} was asked for, but CUDA is not available on this machine")
    if name == "mps" and not mps_ok:
        raise ConfigError("device 'mps' was asked for, but Apple's MPS is not available on this machine")
    return torch.device(name)


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512 BF16), so autocast pays off."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool({"amx_bf16", "avx512_bf16"} & flags)


def resolve_precision(requested: str, preset_precision: str, device: torch.device) -> str:
    """The precision to run in.

    ``auto`` defers to the preset; a preset's ``auto`` means bfloat16 where the hardware computes it
    natively (CUDA with bf16, CPUs with AMX/AVX-512 BF16), float16 on older CUDA GPUs, else float32.
    """
    if requested not in PRECISION_CHOICES:
        raise ConfigError(f"unknown precision {requested!r}; expected one of {', '.join(PRECISION_CHOICES)}")
    choice = preset_precision if requested == "auto" else requested
    if requested == "fp16" and device.type == "cpu":
        warnings.warn("precision fp16 on the CPU is emulated and runs several times slower than fp32; bf16 is "
                      "the CPU's fast half precision", stacklevel=2)
    if choice != "auto":
        return choice
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def check_threads(threads: object) -> int | None:
    """A thread count between 1 and the cores available to the process (None: PyTorch's choice), or a
    :class:`ConfigError` naming the count and the limit.
    """
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise ConfigError(f"threads {threads!r} is invalid; expected a whole number >= 1")
    if threads < 1:
        raise ConfigError(f"threads {threads} must be at least 1")
    cores = available_cores()
    if threads > cores:
        raise ConfigError(f"threads {threads} is more than the {cores} cores available to this process; "
                          f"expected 1 to {cores}")
    return threads


def set_threads(threads: int | None) -> int:
    """Set PyTorch's intra-op threads (None keeps the current number); returns the number in use."""
    checked = check_threads(threads)
    if checked is not None:
        torch.set_num_threads(checked)
    return torch.get_num_threads()
