"""The benchmark harness: the Deep Image Prior paper's tables on the paper's own inputs, baselines beside.

Every method in a table is scored by the same code on the same crop: the DIP run, the classical
baselines, the corrupted input, and the published DIP outputs. The ground truth is used only to score;
a figure chosen with it (the best PSNR along the run) is reported as ``oracle`` and never as the result.

Protocols (``../shared/BENCH.md``):
    denoise: the 9 colour images at sigma 25 and 50 (the paper's noisy files); PSNR on RGB in [0, 1]
        of the 8-bit output.
    pixels: Table 1, 11 grey images with 50 % of pixels missing (known where the masked file is not 0);
        PSNR on the grey image.
    sr: Set5 and Set14 at x4 and x8; low resolution made from the GT with Pillow's antialiased bicubic;
        PSNR on the Y channel (BT.601, [16, 235]) with a 4-pixel border cropped.
    folder: any folder of clean images, corrupted by deepprior's own noise models with a fixed seed.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from .._version import __version__
from ..errors import ConfigError, InputError
from ..metrics import psnr, psnr_y, rgb_to_y, ssim

TABLES = ("denoise", "pixels", "sr", "folder")
DENOISE_IMAGES = ("F16", "baboon", "hill", "kodim01", "kodim02", "kodim03", "kodim12", "lena", "peppers")
PIXEL_IMAGES = ("barbara", "boat", "house", "Lena512", "peppers256", "Cameraman256", "couple", "fingerprint",
                "hill", "man", "montage")
SR_SETS = ("Set5", "Set14")
PUBLISHED_DIP = {  # per-image PSNR of the published outputs, full size (../shared/data/README.md)
    "denoise-sigma25": {"F16": 33.69, "baboon": 24.51, "hill": 32.09, "kodim01": 28.44, "kodim02": 32.71,
                        "kodim03": 33.79, "kodim12": 32.68, "lena": 32.56, "peppers": 31.15},
}


def find_data(data: str | Path | None) -> Path:
    """The data folder: ``data``, else ``$DEEPPRIOR_DATA``, else ``../shared/data`` when it exists."""
    candidates = [data, os.environ.get("DEEPPRIOR_DATA"), "../shared/data"]
    for c in candidates:
        if c is None:
            continue
        p = Path(c)
        if p.is_dir():
            return p
        if c is data:
            raise InputError(f"data folder {p} does not exist")
    raise InputError(
        "no benchmark data: pass --data DIR or set DEEPPRIOR_DATA to a folder holding dip-paper/ (the Deep Image "
        "Prior paper's evaluation images from its project page: denoising/, pixels50/, sr/)"
    )


@dataclass(frozen=True)
class BenchConfig:
    """What one benchmark run does (the ``deepprior bench`` options, one to one)."""

    table: str
    data: Path | None = None
    preset: str | None = None
    net: str | None = None
    num_iter: int | None = None
    lr: float | None = None  # Adam's learning rate; None: the preset's
    stop: str = "none"
    crop: int | None = None
    limit: int | None = None
    images: tuple[str, ...] = ()  # only these images (names as in the table), in the table's order
    seed: int = 0
    quick: bool = False
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    sigmas: tuple[int, ...] = (25, 50)
    scales: tuple[int, ...] = (4,)
    sets: tuple[str, ...] = SR_SETS
    folder: Path | None = None
    noise: str | None = None
    sigma: float | None = None
    peak: float | None = None
    amount: float | None = None
    setting: str = "matched"  # folder: what the fit is told of the noise (FOLDER_SETTINGS)
    baselines: bool = True

    def effective(self) -> BenchConfig:
        """Apply ``quick``: tiny crops, few iterations, two images."""
        if not self.quick:
            return self
        from dataclasses import replace

        return replace(
            self,
            crop=self.crop or (64 if self.table == "sr" else 32),
            num_iter=self.num_iter or 20,
            limit=self.limit or 2,
        )


@dataclass
class Case:
    """One image of a table: the corrupted input and what scoring needs."""

    name: str
    group: str
    task: str
    corrupted: np.ndarray
    reference: np.ndarray
    known: np.ndarray | None = None
    scale: int | None = None
    sigma: float | None = None
    published: dict[str, np.ndarray] = field(default_factory=dict)
    denoise_args: dict[str, Any] = field(default_factory=dict)  # noise / level / loss for api.denoise


def _centre(a: np.ndarray, size: int | None, multiple: int = 1) -> np.ndarray:
    if size is None:
        h, w = a.shape[:2]
        return a[: h - h % multiple, : w - w % multiple]
    h, w = a.shape[:2]
    size = size - size % multiple
    if size > min(h, w):
        raise InputError(f"crop {size} is larger than the image ({w}x{h})")
    top, left = (h - size) // 2, (w - size) // 2
    return a[top : top + size, left : left + size]


def _load(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError(f"benchmark file missing: {path}")
    return io.load_image(path).pixels


def _limit(names: tuple[str, ...] | list[str], limit: int | None, only: tuple[str, ...] = ()) -> list[str]:
    """``only``: keep the names listed (by name or file stem), in the table's order; then the first ``limit``."""
    kept = [n for n in names if not only or n in only or Path(n).stem in only]
    return kept[:limit] if limit else kept


def denoise_cases(cfg: BenchConfig, data: Path) -> Iterator[Case]:
    root = data / "dip-paper" / "denoising"
    for sigma in cfg.sigmas:
        for name in _limit(DENOISE_IMAGES, cfg.limit, cfg.images):
            gt = _centre(_load(root / "sigma25" / f"{name}_GT.png"), cfg.crop)
            noisy = _centre(_load(root / f"sigma{sigma}" / f"{name}_noisy.png"), cfg.crop)
            published = {}
            for label, suffix in (("published DIP", "deep_prior"), ("published CBM3D", "bm3d")):
                p = root / f"sigma{sigma}" / f"{name}_{suffix}.png"
                if p.exists():
                    published[label] = _centre(_load(p), cfg.crop)
            yield Case(name, f"sigma{sigma}", "denoise", noisy, gt, sigma=float(sigma), published=published)


def pixel_cases(cfg: BenchConfig, data: Path) -> Iterator[Case]:
    root = data / "dip-paper" / "pixels50"
    for name in _limit(PIXEL_IMAGES, cfg.limit, cfg.images):
        gt = _centre(_load(root / f"{name}_GT.png"), cfg.crop).mean(axis=2, keepdims=True)
        masked = _centre(_load(root / f"{name}_masked.png"), cfg.crop).mean(axis=2, keepdims=True)
        known = masked[:, :, 0] != 0
        published = {}
        for label, suffix in (("published DIP", "deep_prior"), ("published Papyan", "papyan")):
            p = root / f"{name}_{suffix}.png"
            if p.exists():
                published[label] = _centre(_load(p), cfg.crop).mean(axis=2, keepdims=True)
        yield Case(name, "pixels50", "inpaint", masked, gt, known=known, published=published)


def _bicubic_down(gt: np.ndarray, scale: int) -> np.ndarray:
    """The SR protocol's low-resolution input: Pillow's antialiased bicubic on the 8-bit GT."""
    from PIL import Image

    h, w = gt.shape[:2]
    u8 = np.round(gt * 255).astype(np.uint8)
    pil = Image.fromarray(u8[:, :, 0] if u8.shape[2] == 1 else u8)
    small = np.asarray(pil.resize((w // scale, h // scale), Image.Resampling.BICUBIC), np.float32) / 255.0
    return small[:, :, None] if small.ndim == 2 else small


def sr_cases(cfg: BenchConfig, data: Path) -> Iterator[Case]:
    root = data / "dip-paper" / "sr"
    for scale in cfg.scales:
        for set_name in cfg.sets:
            folder = root / set_name / f"x{scale}"
            if not folder.is_dir():
                raise InputError(f"benchmark folder missing: {folder}")
            names = sorted(p.name[: -len("_GT.png")] for p in folder.glob("*_GT.png"))
            for name in _limit(names, cfg.limit, cfg.images):
                gt = _centre(_load(folder / f"{name}_GT.png"), cfg.crop, multiple=scale)
                published = {}
                for p in sorted(folder.glob(f"{name}_deep_prior*.png")):
                    label = "published DIP" + p.stem[len(f"{name}_deep_prior") :].replace("_", " ")
                    pub = _load(p)
                    if pub.shape[:2] == _load(folder / f"{name}_GT.png").shape[:2]:
                        published[label.strip()] = _centre(pub, cfg.crop, multiple=scale)
                yield Case(name, f"{set_name} x{scale}", "super-resolve", _bicubic_down(gt, scale), gt,
                           scale=scale, published=published)


def folder_cases(cfg: BenchConfig, data: Path) -> Iterator[Case]:
    from ..api import degrade

    folder = cfg.folder
    if folder is None or not Path(folder).is_dir():
        raise InputError(f"the folder table needs --folder DIR with clean images; {folder} is not a folder")
    names = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in io.WRITABLE_SUFFIXES)
    if not names:
        raise InputError(f"folder {folder} holds no images")
    args = folder_denoise_args(cfg)  # an unknown setting fails before any work
    for p in _limit([str(n) for n in names], cfg.limit, cfg.images):
        clean = _centre(io.load_image(p).pixels, cfg.crop)
        d = degrade(clean, noise=cfg.noise, sigma=cfg.sigma, peak=cfg.peak, amount=cfg.amount, seed=cfg.seed)
        yield Case(Path(p).stem, f"{d.description}, {cfg.setting}", "denoise", d.image.pixels, clean,
                   denoise_args=args)


#: The folder table's ``--setting``: what ``denoise`` is told about the noise the table added.
FOLDER_SETTINGS = ("matched", "blind", "mse")


def folder_denoise_args(cfg: BenchConfig) -> dict[str, Any]:
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


LOADERS: dict[str, Callable[[BenchConfig, Path], Iterator[Case]]] = {
    "denoise": denoise_cases,
    "pixels": pixel_cases,
    "sr": sr_cases,
    "folder": folder_cases,
}


def score(case: Case, image: np.ndarray) -> dict[str, float]:
    """The table's metric for one output, on the 8-bit image as it would be saved."""
    x = io.quantize(np.clip(image, 0, 1), 8)
    if x.shape[2] != case.reference.shape[2]:
        x = x.mean(axis=2, keepdims=True)
    if case.task == "super-resolve":
        b = 4 if min(x.shape[:2]) > 16 else 0
        yx, yr = rgb_to_y(x), rgb_to_y(case.reference)
        if b:
            yx, yr = yx[b:-b, b:-b], yr[b:-b, b:-b]
        return {"psnr": psnr_y(x, case.reference, border=b), "ssim": ssim(yx[:, :, None], yr[:, :, None])}
    return {"psnr": psnr(x, case.reference), "ssim": ssim(x, case.reference)}


def _dip(case: Case, cfg: BenchConfig) -> dict[str, Any]:
    from .. import api

    common = dict(preset=cfg.preset, net=cfg.net, num_iter=cfg.num_iter, lr=cfg.lr, seed=cfg.seed,
                  device=cfg.device, precision=cfg.precision, threads=cfg.threads, stop=cfg.stop,
                  reference=case.reference)
    if case.task == "denoise" and case.denoise_args:
        r = api.denoise(case.corrupted, **case.denoise_args, **common)  # type: ignore[arg-type]
    elif case.task == "denoise":
        r = api.denoise(case.corrupted, sigma=case.sigma, **common)  # type: ignore[arg-type]
    elif case.task == "inpaint":
        r = api.inpaint(case.corrupted, mask=case.known, **common)  # type: ignore[arg-type]
    else:
        r = api.super_resolve(case.corrupted, scale=case.scale or 4, **common)  # type: ignore[arg-type]
    out: dict[str, Any] = dict(score(case, r.image.pixels))
    ref_curve = [(h["iteration"], h["psnr"]) for h in r.fit.history if h.get("psnr") is not None]
    oracle_it, oracle = max(ref_curve, key=lambda t: t[1]) if ref_curve else (None, None)
    out.update({
        "iterations": r.fit.iterations,
        "stopped_at": r.fit.stopped_at,
        "stop": r.fit.stop_reason if r.fit.stop_reason != "max_iter" else "fixed count",
        "oracle_psnr": oracle,
        "oracle_iteration": oracle_it,
        "seconds": round(r.fit.seconds, 2),
        "preset": r.preset,
        "net": r.net,
        "precision": r.precision,
        "device": r.device,
        "threads": r.threads,
        "data_term": r.config.get("loss"),
        "lr": r.config["fit"]["lr"],
        "history": r.fit.history,
    })
    return out


def _baselines(case: Case) -> dict[str, dict[str, Any]]:
    from . import baselines as bl

    out: dict[str, dict[str, Any]] = {}
    if case.task == "denoise":
        for name, fn in bl.denoising_baselines().items():
            t = time.perf_counter()
            est = fn(case.corrupted)
            out[name] = {**score(case, est), "seconds": round(time.perf_counter() - t, 2)}
    elif case.task == "inpaint" and case.known is not None:
        t = time.perf_counter()
        est = bl.biharmonic(case.corrupted, case.known)
        out["biharmonic"] = {**score(case, est), "seconds": round(time.perf_counter() - t, 2)}
    elif case.task == "super-resolve":
        out["bicubic"] = score(case, bl.bicubic(case.corrupted, case.scale or 4))
    return out


def metadata(cfg: BenchConfig) -> dict[str, Any]:
    import torch

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "deepprior": __version__,
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def run_table(
    cfg: BenchConfig,
    *,
    echo: Callable[[str], None] = print,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run one table; returns ``{"meta", "rows", "means"}`` (rows: one per image and group).

    ``on_row`` receives the partial result after every image, so a long run can save as it goes.
    """
    if cfg.table not in TABLES:
        raise ConfigError(f"unknown table {cfg.table!r}; expected one of {', '.join(TABLES)}")
    cfg = cfg.effective()
    data = find_data(cfg.data) if cfg.table != "folder" else Path(cfg.folder or ".")
    meta = metadata(cfg)  # the code and settings the run started with, not those of a later write
    rows: list[dict[str, Any]] = []
    for case in LOADERS[cfg.table](cfg, data):
        row: dict[str, Any] = {"image": case.name, "group": case.group, "size": list(case.reference.shape[:2])}
        corrupted = case.corrupted
        if case.task == "super-resolve":
            from .baselines import bicubic

            corrupted = bicubic(case.corrupted, case.scale or 4)
        if case.task != "super-resolve":
            row["input"] = score(case, corrupted)
        row["deepprior"] = _dip(case, cfg)
        if cfg.baselines:
            row.update(_baselines(case))
        for label, img in case.published.items():
            row[label] = score(case, img)
        rows.append(row)
        d = row["deepprior"]
        echo(
            f"{case.group:<12} {case.name:<14} deepprior {d['psnr']:.2f} dB ({d['iterations']} it, {d['stop']}, "
            f"{d['seconds']:.0f} s)" + "".join(
                f" | {k} {v['psnr']:.2f}" for k, v in row.items() if isinstance(v, dict) and k != "deepprior"
            )
        )
        if on_row is not None:
            on_row({"meta": {**meta, "updated": time.strftime("%Y-%m-%d %H:%M:%S")}, "rows": rows,
                    "means": means(rows)})
    return {"meta": {**meta, "updated": time.strftime("%Y-%m-%d %H:%M:%S")}, "rows": rows, "means": means(rows)}


def methods_of(rows: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for r in rows:
        for k, v in r.items():
            if isinstance(v, dict) and "psnr" in v and k not in seen:
                seen.append(k)
    return seen


def means(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean PSNR/SSIM per group and method (over the images that have the method)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for group in dict.fromkeys(r["group"] for r in rows):
        g_rows = [r for r in rows if r["group"] == group]
        out[group] = {}
        for m in methods_of(g_rows):
            vals = [r[m] for r in g_rows if m in r]
            entry = {k: float(np.mean([v[k] for v in vals])) for k in ("psnr", "ssim")}
            if m == "deepprior":
                entry["oracle_psnr"] = float(np.mean([v["oracle_psnr"] for v in vals if v["oracle_psnr"] is not None]
                                                     or [np.nan]))
                entry["seconds"] = float(np.mean([v["seconds"] for v in vals]))
                entry["iterations"] = float(np.mean([v["iterations"] for v in vals]))
            entry["n"] = len(vals)
            out[group][m] = entry
    return out


def to_markdown(result: dict[str, Any], *, command: str = "") -> str:
    """A human table: per image and mean, PSNR (SSIM) per method, then the run's settings."""
    rows, meta = result["rows"], result["meta"]
    cfg = meta["config"]
    lines = []
    for group, g_means in result["means"].items():
        g_rows = [r for r in rows if r["group"] == group]
        methods = methods_of(g_rows)
        lines.append(f"#### {cfg['table']} — {group}")
        lines.append("")
        # The oracle comes from the fit's history: RGB PSNR over the whole image, not the table's metric
        # (for SR: Y channel, border cropped), so it is comparable along a run, not with the other columns.
        oracle_head = "deepprior oracle peak (RGB, whole image)" if cfg["table"] == "sr" else "deepprior oracle peak"
        head = ["image", *methods, oracle_head, "iterations", "stop", "seconds"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for r in g_rows:
            d = r["deepprior"]
            cells = [r["image"]] + [
                f"{r[m]['psnr']:.2f} ({r[m]['ssim']:.3f})" if m in r else "—" for m in methods
            ]
            oracle = f"{d['oracle_psnr']:.2f} @ {d['oracle_iteration']}" if d["oracle_psnr"] is not None else "—"
            cells += [oracle, str(d["iterations"]), d["stop"], f"{d['seconds']:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
        d = g_means["deepprior"]
        mean_cells = ["**mean**"] + [
            f"**{g_means[m]['psnr']:.2f}** ({g_means[m]['ssim']:.3f})" if m in g_means else "—" for m in methods
        ]
        mean_cells += [f"{d['oracle_psnr']:.2f}", f"{d['iterations']:.0f}", "", f"{d['seconds']:.0f}"]
        lines.append("| " + " | ".join(mean_cells) + " |")
        lines.append("")
    first = rows[0]["deepprior"] if rows else {}
    lines.append(
        f"Settings: preset `{first.get('preset')}`, net `{first.get('net')}`, crop {cfg['crop'] or 'full size'}, "
        f"stop rule `{cfg['stop']}`, lr {first.get('lr', '?')}, seed {cfg['seed']}, precision "
        f"{first.get('precision')}, device {first.get('device')}, {first.get('threads')} threads; "
        f"deepprior {meta['deepprior']} at commit "
        f"{meta['commit']}{' (dirty)' if meta['dirty'] else ''}, torch {meta['torch']}, {meta['date']}. "
        "PSNR in dB (SSIM in brackets); 'oracle peak' is the best PSNR along the run, chosen with the ground "
        "truth (sampled every 10 iterations): an upper bound for a stopping rule, not a result."
    )
    if command:
        lines.append("")
        lines.append(f"Command: `{command}`")
    return "\n".join(lines) + "\n"


def write_outputs(
    result: dict[str, Any], *, json_path: Path | None, markdown_path: Path | None, plots: Path | None,
    command: str = "",
) -> None:
    if json_path is not None:
        io.write_text_atomic(json_path, json.dumps(result, indent=1, default=float) + "\n")
    if markdown_path is not None:
        io.write_text_atomic(markdown_path, to_markdown(result, command=command))
    if plots is not None:
        from ..viz import plot_bars, plot_curves

        plots.mkdir(parents=True, exist_ok=True)
        for r in result["rows"]:
            d = r["deepprior"]
            slug = f"{r['group']}_{r['image']}".replace(" ", "_").replace(",", "")
            plot_curves(d["history"], plots / f"curve_{slug}.png", title=f"{r['image']} ({r['group']})",
                        stopped_at=d["stopped_at"], stop_reason=d["stop"])
        for group in result["means"]:
            g_rows = [r for r in result["rows"] if r["group"] == group]
            plot_bars(g_rows, methods_of(g_rows), plots / f"bars_{group.replace(' ', '_')}.png",
                      title=f"{result['meta']['config']['table']} {group}")
