"""Plots shared by the CLI and the benchmarks. Needs the ``viz`` extra (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "plots need matplotlib: pip install 'deepprior[viz]' (or matplotlib)"
        ) from None
    return plt


def require_viz() -> None:
    """Fail at once, with what to install, when the plotting extra is missing."""
    _pyplot()


def _save(fig: Any, path: str | Path) -> Path:
    import io as _io

    from .io import write_bytes_atomic

    buffer = _io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    return write_bytes_atomic(path, buffer.getvalue())


def plot_curves(
    history: Sequence[dict[str, Any]],
    path: str | Path,
    *,
    title: str = "",
    stopped_at: int | None = None,
    stop_reason: str = "",
) -> Path:
    """Loss and PSNR against the input over iterations; PSNR against the reference when known.

    The stop point is marked; so is the oracle peak (the best reference PSNR, which needs the ground
    truth and is labelled as such).
    """
    plt = _pyplot()
    its = [h["iteration"] for h in history]
    fig, (ax_loss, ax_psnr) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss.semilogy(its, [max(h["loss"], 1e-12) for h in history], color="tab:blue")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss (MSE on measured pixels)")
    ax_loss.grid(alpha=0.3)
    ax_psnr.plot(its, [h["psnr_input"] for h in history], color="tab:orange", label="PSNR vs corrupted input")
    ref = [(h["iteration"], h["psnr"]) for h in history if h.get("psnr") is not None]
    if ref:
        ax_psnr.plot(*zip(*ref, strict=True), color="tab:green", label="PSNR vs reference")
        best_it, best = max(ref, key=lambda t: t[1])
        ax_psnr.plot([best_it], [best], "^", color="tab:green", label=f"oracle peak {best:.2f} dB @ {best_it}")
    if stopped_at is not None:
        label = f"returned: iteration {stopped_at}" + (f" ({stop_reason})" if stop_reason else "")
        ax_psnr.axvline(stopped_at, color="tab:red", linestyle="--", label=label)
    ax_psnr.set_xlabel("iteration")
    ax_psnr.set_ylabel("PSNR (dB)")
    ax_psnr.grid(alpha=0.3)
    ax_psnr.legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    out = _save(fig, path)
    plt.close(fig)
    return out


def plot_bars(
    rows: Sequence[dict[str, Any]], methods: Sequence[str], path: str | Path, *, title: str = "", metric: str = "psnr"
) -> Path:
    """A grouped bar chart: one group per image, one bar per method (``row[method][metric]``)."""
    plt = _pyplot()
    import numpy as np

    names = [r["image"] for r in rows]
    x = np.arange(len(names))
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names) * max(1, len(methods)) / 2), 3.8))
    for i, m in enumerate(methods):
        vals = [(r.get(m) or {}).get(metric) or 0.0 for r in rows]
        vals = [v if np.isfinite(v) else 0.0 for v in vals]
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, vals, width, label=m)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel(metric.upper() + (" (dB)" if "psnr" in metric else ""))
    finite = [
        v for r in rows for m in methods
        if (v := (r.get(m) or {}).get(metric)) is not None and 0 < v < float("inf")
    ]
    if finite:
        ax.set_ylim(min(finite) - 2, max(finite) + 1)
    ax.legend(fontsize=8, ncol=min(4, len(methods)))
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    out = _save(fig, path)
    plt.close(fig)
    return out
