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


def check_figure_path(path: str | Path, what: str) -> None:
    """Before a fit: the plotting extra is installed and ``path`` has a suffix matplotlib writes
    (``.png``, ``.pdf``, ``.svg``, ...); the folder is the caller's to check.
    """
    require_viz()
    from matplotlib.backend_bases import FigureCanvasBase

    known = sorted(f".{ext}" for ext in FigureCanvasBase.get_supported_filetypes())
    if Path(path).suffix.lower() not in known:
        raise ConfigError(f"{what} {path}: unknown figure format {Path(path).suffix or '(none)'}; expected one of "
                          f"{', '.join(known)}")


def check_animation_path(path: str | Path) -> None:
    """Before a fit: ``path`` is a ``.gif``, or an ``.mp4`` with imageio and imageio-ffmpeg installed."""
    import importlib.util

    suffix = Path(path).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ConfigError(f"animation {path}: expected a .gif or .mp4 file")
    if suffix == ".mp4" and not all(importlib.util.find_spec(m) for m in ("imageio", "imageio_ffmpeg")):
        raise ConfigError("mp4 animations need imageio and imageio-ffmpeg: pip install imageio imageio-ffmpeg, "
                          "or use .gif")


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


def _to_uint8(image: Any) -> Any:
    import numpy as np

    a = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return np.round(a * 255).astype(np.uint8)


def plot_compare(
    panels: Sequence[tuple[str, Any]], path: str | Path, *, reference: Any | None = None, restored: Any | None = None,
) -> Path:
    """Side-by-side panels (``(title, H x W x C image)``); with a reference, the absolute difference last.

    Titles carry PSNR/SSIM against the reference when one is given.
    """
    import numpy as np

    from .metrics import SSIM_MIN_SIDE, psnr, ssim

    plt = _pyplot()
    items = list(panels)
    if reference is not None and restored is not None:
        diff = np.abs(np.asarray(restored, np.float32) - np.asarray(reference, np.float32)).mean(axis=2)
        items.append(("|restored - reference|", diff))
    fig, axes = plt.subplots(1, len(items), figsize=(3.2 * len(items), 3.6))
    for ax, (title, img) in zip(np.atleast_1d(axes), items, strict=True):
        arr = np.asarray(img, np.float32)
        if arr.ndim == 2:  # the difference map
            im = ax.imshow(arr, cmap="magma", vmin=0, vmax=max(0.05, float(arr.max())))
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        else:
            ax.imshow(_to_uint8(arr), cmap="gray" if arr.shape[2] == 1 else None, vmin=0, vmax=255,
                      interpolation="nearest")
            if reference is not None and arr.shape == np.asarray(reference).shape and title != "reference":
                title = f"{title}\n{psnr(arr, reference):.2f} dB, SSIM {ssim(arr, reference):.3f}" \
                    if min(arr.shape[:2]) >= SSIM_MIN_SIDE else f"{title}\n{psnr(arr, reference):.2f} dB"
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    out = _save(fig, path)
    plt.close(fig)
    return out


def write_animation(frames: Sequence[tuple[int, Any]], path: str | Path, *, fps: int = 8, max_side: int = 512) -> Path:
    """An animation of the fit: one frame per ``(iteration, image)``, the iteration written on each.

    ``.gif`` is written with Pillow; ``.mp4`` needs ``imageio`` with its ffmpeg plugin (``imageio-ffmpeg``).
    Frames are scaled (nearest) so that the longer side is at most ``max_side`` pixels and at least 256.
    """
    import numpy as np
    from PIL import Image, ImageDraw

    suffix = Path(path).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ConfigError(f"animation {path}: expected a .gif or .mp4 file")
    if not frames:
        raise ConfigError("the animation has no frames (no snapshot iteration was reached)")
    pictures = []
    for iteration, image in frames:
        pil = Image.fromarray(_to_uint8(image)).convert("RGB")
        scale = min(max_side / max(pil.size), max(1.0, 256 / max(pil.size)))
        if scale != 1:
            pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))),
                             Image.Resampling.NEAREST)
        draw = ImageDraw.Draw(pil)
        text = f"iteration {iteration}"
        box = draw.textbbox((4, 4), text)
        draw.rectangle((box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2), fill=(0, 0, 0))
        draw.text((4, 4), text, fill=(255, 255, 255))
        pictures.append(pil)
    import io as _io

    from .io import write_bytes_atomic

    buffer = _io.BytesIO()
    if suffix == ".gif":
        durations = [int(1000 / fps)] * (len(pictures) - 1) + [1500]  # hold the last frame
        pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=durations,
                         loop=0)
    else:
        try:
            import imageio.v3 as iio
        except ImportError:
            raise ConfigError(
                "mp4 animations need imageio and imageio-ffmpeg: pip install imageio imageio-ffmpeg"
            ) from None
        h = max(p.height for p in pictures) // 2 * 2
        w = max(p.width for p in pictures) // 2 * 2
        arrays = np.stack([np.asarray(p.resize((w, h), Image.Resampling.NEAREST)) for p in pictures])
        try:
            data = iio.imwrite("<bytes>", arrays, extension=".mp4", fps=fps)
        except Exception as exc:  # noqa: BLE001 - a missing ffmpeg backend surfaces in many forms
            raise ConfigError(f"cannot write mp4 ({exc}); install imageio-ffmpeg or use .gif") from None
        buffer.write(data)
    return write_bytes_atomic(path, buffer.getvalue())
