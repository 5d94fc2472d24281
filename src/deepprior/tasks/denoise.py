"""Denoising: ``y = x + n`` for Gaussian, Poisson, salt-and-pepper or speckle noise, or a blind setting.

The noise model picks the data term and the stopping rule's expected residual (:mod:`deepprior.fit.losses`):
``gaussian`` -> MSE (the paper's), ``poisson`` -> Poisson likelihood, ``salt-pepper`` -> L1 with the
impulses left out, ``speckle`` -> intensity-weighted MSE. ``unknown`` (blind) looks for isolated black/white
impulses (then L1) and otherwise fits MSE with the image's own noise-level function ``a + b x + c x^2``
(Foi et al., "Practical Poissonian-Gaussian noise modeling and fitting for single-image raw-data", IEEE TIP
2008) as the stopping rule's expectation.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (the network, the loop, the presets).

"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from .. import io
from ..benchdata import Case, centre, limit_names, load
from ..errors import ConfigError
from ..fit import losses as L
from ..fit.config import FitConfig
from ..io import ImageData
from ..nets import SkipConfig
from ..physics import Identity, make_noise, stats
from ..physics.noise import check_level
from ..presets import Preset, TaskInfo, paper_preset
from ..restore.problem import Problem
from ..tiling import TileRule
from .base import Example, Option, Stage, Table, Task, gaussian_noise, synthetic_scene

NOISES = ("gaussian", "poisson", "salt-pepper", "speckle", "unknown")

#: Adam's learning rate of ``fast`` in denoising. The 64-channel network fits *sooner* with a smaller
#: step than the paper's 0.01: on the 256x256 F16 crop of issue #6 (sigma 25, 1500 iterations) it reached
#: 29.38 / 29.78 / 30.00 / 29.99 dB at iteration 1000 with lr 0.01 / 0.005 / 0.003 / 0.002 (0.02: 28.73,
#: 0.03: 28.22) and 30.56 / 30.81 / 30.82 at 1500 (0.01 / 0.003 / 0.002); on a 256 crop of kodim03 its best
#: was 0.14 dB higher than with 0.01. On 128x128 crops, where the fit peaks early, it cost 0.12 dB on the
#: mean of the 9 sigma-25 crops (29.50 against 29.62, automatic stop) for 14 % fewer iterations
#: (docs/benchmarks.md, "Learning rate").
FAST_DENOISE_LR = 0.003

#: The network of ``fast`` in denoising: the skip net with 48 channels a level. On the same F16 crop
#: (lr 0.003, one thread) 48 channels reached 30.54 dB at iteration 1310 (64: 1240, 32: 1900; 32 barely
#: moved with lr 0.006 or 0.01: 1900, 1870) and peaked at 30.88 (iteration 1790); alone on this CPU an
#: iteration at 256x256 took 0.22 s (64: 0.34, 32: 0.17), so 48 channels reach that quality in about
#: two thirds of the time of 64 and in about the time of 32 (a tie within this machine's noise), and peak
#: higher than 32 (30.66 within 2000 iterations) (docs/benchmarks.md, "Network width").
FAST_DENOISE_NET = SkipConfig(channels_down=(48,) * 5, channels_up=(48,) * 5, channels_skip=(4,) * 5)

#: The fixed iteration count of ``fast`` in denoising: the paper's 3000. With the default automatic stop it
#: is only the cap; the fits peak later on larger images (256x256 F16 crop: iteration 1790).
FAST_DENOISE_ITERS = 3000

#: Denoising on the CPU restores images of 384x384 pixels and more in tiles of 128 (overlap 16), fitted side by
#: side, at lr 0.01. Tiles of 128/16 kept the untiled quality where both ran on the paper's 512x512 images
#: (within 0.1 dB on four) in 0.36-0.45 of the untiled time at one thread (issue #20); lr 0.01 raised single
#: 160x160 tiles of F16 and baboon by +0.01 to +0.36 dB over 0.003 for 11-22 % more iterations (tile study).
#: The nine images' full-size results with this rule: docs/benchmarks.md, "Speed, third round". Smaller
#: images stay whole: 4 tiles of 160x160 hold more pixels than a 256x256 image.
TILE_RULE = TileRule(tile=128, overlap=16, min_pixels=384 * 384, lr=0.01)

#: What ``fast`` says of itself in every task.
FAST_SUMMARY = ("skip net 64x5 (48x5 in denoising), bfloat16 autocast and channels-last where supported; denoising "
                f"{FAST_DENOISE_ITERS} iterations at lr {FAST_DENOISE_LR}")


def _paper(info: TaskInfo) -> Preset:
    noise = 1.0 / 20.0 if (info.sigma is not None and info.sigma >= 50) else 1.0 / 30.0
    return paper_preset(FitConfig(num_iter=3000, lr=0.01, reg_noise_std=noise),
                        "paper denoising: skip net 128x5, 3000 iterations, lr 0.01, input noise 1/30 (1/20 at "
                        "sigma >= 50)")


def _fast(info: TaskInfo) -> Preset:
    fit = replace(_paper(info).fit, num_iter=FAST_DENOISE_ITERS, lr=FAST_DENOISE_LR, channels_last=True)
    return Preset("fast", "skip", FAST_DENOISE_NET, fit, "auto", FAST_SUMMARY)


OPTIONS = (
    Option("sigma", "Gaussian noise level on the 0-255 scale, when known; with --noise speckle, the speckle's "
           "standard deviation on the [0, 1] scale.", low=0, label="Noise level (0-255)"),
    Option("noise", "The noise model; picks the data term and the stop rule's expected residual. Default: from "
           "the level given (--sigma gaussian, --peak poisson, --amount salt-pepper), else unknown (blind: one "
           "setting for all, which identifies impulses and fits a noise-level function).", kind="choice",
           choices=NOISES, label="Noise type"),
    Option("peak", "Poisson peak (photons at intensity 1), when known; estimated otherwise.", low=0, low_open=True,
           label="Photon count (Poisson peak)"),
    Option("amount", "Salt-and-pepper fraction of pixels, when known; estimated otherwise.", low=0, high=1,
           label="Salt-and-pepper fraction"),
    Option("loss", "Override the data term the noise model picks.", kind="choice",
           choices=("mse", "l1", "poisson", "speckle"), label="Data term"),
    Option("keep_known", "Return the pixels the noise left untouched as given (salt-and-pepper: those not pure "
           "black or white); the network fills only the others. Default: on for salt-and-pepper.", kind="switch",
           label="Keep untouched pixels"),
)


def named_by_level(sigma: float | None, peak: float | None, amount: float | None, flags: str) -> str | None:
    """The noise a level names (``sigma`` Gaussian, ``peak`` Poisson, ``amount`` salt-and-pepper), or None;
    more than one level is an error (``flags`` names them in the message).
    """
    given = [n for n, v in (("gaussian", sigma), ("poisson", peak), ("salt-pepper", amount)) if v is not None]
    if len(given) > 1:
        raise ConfigError(f"give one noise level ({flags}), or name the noise with --noise")
    return given[0] if given else None


def noise_setup(
    y: torch.Tensor, *, noise: str | None, sigma: float | None, peak: float | None, amount: float | None,
    loss: str | None,
) -> tuple[dict[str, Any], L.DataTerm, float | None]:
    """Resolve ``--noise`` and its level into (report entry, data term, Gaussian sigma on 0-255 or None)."""
    sigma = None if sigma is None else check_level("sigma", sigma)
    peak = None if peak is None else check_level("Poisson peak", peak, positive=True)
    amount = None if amount is None else check_level("salt-and-pepper amount", amount, high=1.0)
    if noise is None:
        noise = named_by_level(sigma, peak, amount, "sigma, peak or amount") or "unknown"
    if noise not in NOISES:
        raise ConfigError(f"unknown noise {noise!r}; expected one of {', '.join(NOISES)}")
    wrong = {"gaussian": ("peak", "amount"), "poisson": ("sigma", "amount"), "salt-pepper": ("sigma", "peak"),
             "speckle": ("peak", "amount"), "unknown": ("sigma", "peak", "amount")}[noise]
    extra = [n for n in wrong if {"sigma": sigma, "peak": peak, "amount": amount}[n] is not None]
    if extra:
        raise ConfigError(f"--{extra[0]} does not apply to --noise {noise}")
    info: dict[str, Any] = {"model": noise}
    level: dict[str, float | None] = {}
    gauss_sigma = None
    if noise == "gaussian":
        gauss_sigma = sigma
        level["sigma"] = None if sigma is None else sigma / 255.0
        info["sigma"] = sigma
    elif noise == "poisson":
        value = peak if peak is not None else stats.estimate_poisson_peak(y)
        level["peak"], info["peak"], info["estimated"] = value, round(value, 3), peak is None
    elif noise == "salt-pepper":
        value = amount if amount is not None else stats.estimate_impulse_amount(y)
        level["amount"], info["amount"], info["estimated"] = value, round(value, 5), amount is None
    elif noise == "speckle":
        value = sigma if sigma is not None else stats.estimate_speckle_sigma(y)
        level["speckle"], info["sigma"], info["estimated"] = value, round(value, 5), sigma is None
    if noise == "unknown" and loss is None:
        return info, _blind_term(y, info), None
    name = loss if loss is not None else L.NOISE_LOSS[noise]
    if loss is not None and loss != L.NOISE_LOSS[noise]:
        level = {}  # an overridden data term does not know this noise's level; the stop rule estimates it
    return info, L.make_loss(name, skip_impulses=noise == "salt-pepper", **level), gauss_sigma


def _blind_term(y: torch.Tensor, info: dict[str, Any]) -> L.DataTerm:
    """The blind setting: isolated pure black/white pixels mean impulses (L1 with their fraction);
    otherwise MSE with a noise-level function ``a + b x + c x^2`` fitted to the image (Gaussian, Poisson,
    speckle and their mixtures), which the stopping rule uses as the expected residual.
    """
    impulses = stats.detect_impulses(y)
    if impulses > stats.IMPULSE_FRACTION:
        info.update(identified="impulses", amount=round(impulses, 5))
        return L.L1(amount=impulses, skip_impulses=True)
    try:
        coefficients = stats.estimate_level_function(y)
    except ConfigError:  # too small to fit a curve: the stopping rule estimates a Gaussian sigma instead
        info.update(identified="gaussian (too small for a noise-level function)")
        return L.MSE()
    info.update(identified="noise-level function", coefficients=[round(c, 8) for c in coefficients])
    return L.LevelFunction(coefficients)


def build(image: ImageData, *, sigma: float | None = None, noise: str | None = None, peak: float | None = None,
          amount: float | None = None, loss: str | None = None, keep_known: bool | None = None) -> Problem:
    """The denoising problem: the identity operator and the noise model's data term.

    ``--stop auto`` is method-noise stopping (``mns-adaptive``), measured on the paper's images
    (docs/benchmarks.md, "Automatic stopping"); the data term may prefer another (salt-and-pepper's
    impulse-skipping L1: ``holdout``).
    """
    y = io.to_tensor(image.pixels)
    noise_info, data_term, gauss_sigma = noise_setup(y, noise=noise, sigma=sigma, peak=peak, amount=amount,
                                                     loss=loss)
    exact = data_term.exact(y) is not None
    if keep_known and not exact:
        found = "the blind setting found no impulses" if noise_info["model"] == "unknown" else (
            f"{noise_info['model']} noise touches every pixel")
        raise ConfigError(f"keep_known needs a noise that leaves some pixels untouched (salt-and-pepper); {found}")
    return Problem("denoise", image, Identity(), y, TaskInfo("denoise", sigma=gauss_sigma), PRESETS,
                   auto_stop=data_term.auto_stop or "mns-adaptive", out_alpha=image.alpha,
                   input_for_score=image.pixels, loss=data_term, noise=noise_info,
                   keep_known=exact if keep_known is None else keep_known, tiling=TILE_RULE)


PRESETS = {"fast": _fast, "paper": _paper}

# --- degrade: the noise stage --------------------------------------------------------------------------------

STAGE_OPTIONS = (
    Option("noise", "Noise model [default: inferred from the level given].", kind="choice", choices=NOISES[:-1]),
    Option("sigma", "Gaussian: std on the 0-255 scale; speckle: std on the [0, 1] scale.", low=0),
    Option("peak", "Poisson peak: y = Poisson(P x) / P.", low=0, low_open=True),
    Option("amount", "Salt-and-pepper fraction of pixels.", low=0, high=1),
)


def add_noise(x: torch.Tensor, alpha: Any, opts: dict[str, Any], generator: torch.Generator
              ) -> tuple[torch.Tensor, Any, str | None, Any]:
    """Add seeded noise (``noise`` and its level); inferred from the level given when not named."""
    noise, sigma, peak, amount = opts.get("noise"), opts.get("sigma"), opts.get("peak"), opts.get("amount")
    if noise is None:
        noise = named_by_level(sigma, peak, amount, "--sigma, --peak or --amount")
    if noise is None:
        return x, alpha, None, None
    level = {"gaussian": sigma, "poisson": peak, "salt-pepper": amount, "speckle": sigma}.get(noise)
    if noise not in ("gaussian", "poisson", "salt-pepper", "speckle"):
        make_noise(noise, 0.0)  # raises with the list of choices
    flag = {"gaussian": "--sigma", "poisson": "--peak", "salt-pepper": "--amount", "speckle": "--sigma"}[noise]
    if level is None:
        raise ConfigError(f"{noise} noise needs its level ({flag})")
    level = check_level(flag[2:], level)  # a number before it is scaled; each model checks its own range
    model = make_noise(noise, level / 255.0 if noise == "gaussian" else level)
    return model(x, generator=generator), alpha, repr(model), None


# --- benchmark tables ----------------------------------------------------------------------------------------

DENOISE_IMAGES = ("F16", "baboon", "hill", "kodim01", "kodim02", "kodim03", "kodim12", "lena", "peppers")
PUBLISHED_DIP = {  # per-image PSNR of the published outputs, full size (../shared/data/README.md)
    "denoise-sigma25": {"F16": 33.69, "baboon": 24.51, "hill": 32.09, "kodim01": 28.44, "kodim02": 32.71,
                        "kodim03": 33.79, "kodim12": 32.68, "lena": 32.56, "peppers": 31.15},
}


def denoise_cases(cfg: Any, data: Path) -> Iterator[Case]:
    """The paper's 9 colour images with its own noisy files at each sigma; published DIP and CBM3D beside."""
    root = data / "dip-paper" / "denoising"
    for sigma in cfg.sigmas:
        for name in limit_names(DENOISE_IMAGES, cfg.limit, cfg.images):
            gt = centre(load(root / "sigma25" / f"{name}_GT.png"), cfg.crop)
            noisy = centre(load(root / f"sigma{sigma}" / f"{name}_noisy.png"), cfg.crop)
            published = {}
            for label, suffix in (("published DIP", "deep_prior"), ("published CBM3D", "bm3d")):
                p = root / f"sigma{sigma}" / f"{name}_{suffix}.png"
                if p.exists():
                    published[label] = centre(load(p), cfg.crop)
            yield Case(name, f"sigma{sigma}", "denoise", noisy, gt, sigma=float(sigma), published=published)


#: The folder table's ``--setting``: what ``denoise`` is told about the noise the table added.
FOLDER_SETTINGS = ("matched", "blind", "mse")


def folder_options(cfg: Any) -> dict[str, Any]:
    """``matched``: the noise named with its level (its own data term and stop rule); ``blind``: nothing
    (``--noise unknown``); ``mse``: the noise named but the paper's MSE loss (the stop rule then estimates a
    Gaussian sigma) - the three settings of docs/benchmarks.md's noise-model study.
    """
    if cfg.setting not in FOLDER_SETTINGS:
        raise ConfigError(f"unknown setting {cfg.setting!r}; expected one of {', '.join(FOLDER_SETTINGS)}")
    noise = cfg.noise or ("gaussian" if cfg.sigma is not None else "salt-pepper" if cfg.amount is not None
                          else "poisson" if cfg.peak is not None else "gaussian")
    if cfg.setting == "blind":
        return {}
    if cfg.setting == "mse":
        return {"noise": noise, "loss": "mse"}
    level = {"gaussian": {"sigma": cfg.sigma}, "poisson": {"peak": cfg.peak}, "salt-pepper": {"amount": cfg.amount},
             "speckle": {"sigma": cfg.sigma}}[noise]
    return {"noise": noise, **{k: v for k, v in level.items() if v is not None}}


FOLDER_FLAGS = (
    Option("folder", "Clean images to corrupt.", kind="path"),
    *STAGE_OPTIONS,
    Option("setting", "What denoise is told: the noise and its level, nothing, or the noise with MSE.",
           kind="choice", choices=FOLDER_SETTINGS, default="matched"),
)


def folder_cases(cfg: Any, data: Path) -> Iterator[Case]:
    """Any folder of clean images, corrupted by the project's own seeded noise."""
    from ..errors import InputError

    folder = cfg.folder
    if folder is None or not Path(folder).is_dir():
        raise InputError(f"the folder table needs --folder DIR with clean images; {folder} is not a folder")
    names = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in io.WRITABLE_SUFFIXES)
    if not names:
        raise InputError(f"folder {folder} holds no images")
    args = folder_options(cfg)  # an unknown setting fails before any work
    for p in limit_names([str(n) for n in names], cfg.limit, cfg.images):
        clean = centre(io.load_image(p).pixels, cfg.crop)
        gen = torch.Generator().manual_seed(cfg.seed)
        x, _, description, _ = add_noise(io.to_tensor(clean), None, {"noise": cfg.noise, "sigma": cfg.sigma,
                                                                    "peak": cfg.peak, "amount": cfg.amount}, gen)
        if description is None:
            raise ConfigError("nothing to do: give a noise level (--sigma, --peak, --amount)")
        noisy = io.quantize(io.from_tensor(x.clamp(0, 1)), 8)
        yield Case(Path(p).stem, f"{description}, {cfg.setting}", "denoise", noisy, clean, options=args)


def _baselines(case: Case) -> dict[str, Any]:
    from ..baselines import denoising_baselines

    return {name: (lambda fn=fn: fn(case.corrupted)) for name, fn in denoising_baselines().items()}


def _options(case: Case) -> dict[str, Any]:
    return dict(case.options) if case.options or case.sigma is None else {"sigma": case.sigma}


def example() -> Example:
    """A synthetic scene with Gaussian noise of sigma 25."""
    clean = synthetic_scene()
    return Example((gaussian_noise(clean, 25),), {"sigma": 25}, clean)


TASK = Task(
    name="denoise", title="Remove noise",
    summary="Remove noise from INPUT (files or folders).", inputs=("image",), options=OPTIONS,
    build=build, presets=PRESETS,
    stages=(Stage(30, STAGE_OPTIONS, add_noise),),
    tables=(Table("denoise", "The paper's colour denoising set (9 images, sigma 25 and 50), with baselines.",
                  denoise_cases, _baselines, _options,
                  (Option("sigmas", "Noise levels of the paper's set.", kind="ints", default="25,50",
                          choices=("25", "50")),)),
            Table("folder", "Any folder of clean images, corrupted by deepprior's own noise models (fixed seed).",
                  folder_cases, _baselines, _options, FOLDER_FLAGS)),
    example=example,
)
