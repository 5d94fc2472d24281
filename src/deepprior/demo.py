"""``deepprior demo``: the whole story on an image that ships with scikit-image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import DeepPriorError, InputError

CROP = (slice(40, 168), slice(180, 308))  # 128x128 around the astronaut's face


def run_demo(
    out_dir: Path, *, num_iter: int = 1200, seed: int = 0, quiet: bool = False, echo: Callable[[str], None] = print
) -> dict[str, object]:
    """Degrade a crop of the astronaut with Gaussian noise (sigma 25), restore it, report PSNR before and after.

    Writes ``clean.png``, ``noisy.png``, ``restored.png`` and ``report.json`` into ``out_dir``, and, with
    the ``viz`` extra, ``curves.png``, ``fit.gif`` and ``compare.png``.
    """
    import json

    from skimage import data

    from . import io
    from .api import degrade, denoise

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = data.astronaut()[CROP]
    noisy = degrade(clean, sigma=25, seed=seed).image
    io.save_image(out_dir / "clean.png", clean)
    io.save_image(out_dir / "noisy.png", noisy)
    echo(f"demo: astronaut crop 128x128, Gaussian noise sigma 25 (seed {seed}), at most {num_iter} iterations, "
         "automatic stop")
    curves: Path | None = out_dir / "curves.png"
    compare: Path | None = out_dir / "compare.png"
    try:
        from .viz import require_viz

        require_viz()
    except DeepPriorError as exc:  # the demo runs without plots, and says why
        echo(f"note: no curves or comparison figure ({exc})")
        curves = compare = None
    result = denoise(noisy, sigma=25, num_iter=num_iter, seed=seed, reference=clean, quiet=quiet,
                     animation=out_dir / "fit.gif", curves=curves, compare=compare)
    result.save(out_dir / "restored.png")
    report = result.report()
    io.write_text_atomic(out_dir / "report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    echo(
        f"PSNR before {result.input_psnr:.2f} dB, after {result.psnr:.2f} dB "
        f"(SSIM {result.ssim:.4f}); {result.fit.iterations} iterations in {result.fit.seconds:.0f} s "
        f"on {result.device} ({result.precision}, {result.threads} threads, preset {result.preset})"
    )
    extra = "".join(f", {p.name}" for p in (curves, compare) if p is not None)
    echo(f"wrote {out_dir}/clean.png, noisy.png, restored.png, report.json, fit.gif{extra}")
    return report
