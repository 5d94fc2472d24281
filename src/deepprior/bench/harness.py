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
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from ..benchdata import Case, find_data, score
from ..errors import ConfigError
from ..restore.report import strict_json
from ..tasks.superres import SR_SETS
from .meta import run_metadata


def _tables() -> dict[str, Any]:
    from ..tasks import tables

    return tables()


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


def _dip(case: Case, cfg: BenchConfig, options: dict[str, Any]) -> dict[str, Any]:
    from ..tasks import run_task

    r = run_task(case.task, (case.corrupted,), options, None, preset=cfg.preset, net=cfg.net, num_iter=cfg.num_iter,
                 lr=cfg.lr, seed=cfg.seed, device=cfg.device, precision=cfg.precision, threads=cfg.threads,
                 stop=cfg.stop, reference=case.reference)
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


def _baselines(case: Case, table: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, run in table.baselines(case).items():
        t = time.perf_counter()
        est = run()
        out[name] = {**score(case, est), "seconds": round(time.perf_counter() - t, 2)}
    return out


def metadata(cfg: BenchConfig) -> dict[str, Any]:
    """The run's metadata (:func:`~deepprior.bench.meta.run_metadata`) with the table's settings."""
    return run_metadata(asdict(cfg))


def run_table(
    cfg: BenchConfig,
    *,
    echo: Callable[[str], None] = print,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    resume: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one table; returns ``{"meta", "rows", "means"}`` (rows: one per image and group).

    ``on_row`` receives the partial result after every image, so a long run can save as it goes. ``resume``
    is such a result from an earlier run of the same table and settings (:func:`resume_mismatch` says
    otherwise): its rows are kept and their images not fitted again.
    """
    known = _tables()
    if cfg.table not in known:
        raise ConfigError(f"unknown table {cfg.table!r}; expected one of {', '.join(known)}")
    _, table = known[cfg.table]
    cfg = cfg.effective()
    data = find_data(cfg.data) if cfg.table != "folder" else Path(cfg.folder or ".")
    meta = metadata(cfg)  # the code and settings the run started with, not those of a later write
    if resume is not None:
        why = resume_mismatch(resume, cfg)
        if why is not None:
            raise ConfigError(why)
        meta = {**meta, "resumed_from": {k: resume["meta"].get(k) for k in ("commit", "dirty", "updated")}}
    done = {(r["group"], r["image"]): r for r in (resume or {}).get("rows", [])}
    rows: list[dict[str, Any]] = []
    for case in table.cases(cfg, data):
        if (case.group, case.name) in done:
            rows.append(done[(case.group, case.name)])
            echo(f"{case.group:<12} {case.name:<14} done in the earlier run: kept")
            continue
        row: dict[str, Any] = {"image": case.name, "group": case.group, "size": list(case.reference.shape[:2])}
        if case.ambiguous is not None:
            row["ambiguous_pixels"] = int(case.ambiguous.sum())
        if case.scale is None:  # a super-resolution input is smaller than the reference: not scored
            row["input"] = score(case, case.corrupted)
        row["deepprior"] = _dip(case, cfg, table.options(case))
        if cfg.baselines:
            row.update(_baselines(case, table))
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


#: Settings a resumed run may change: which images it takes.
RESUMABLE = ("images", "limit")


def _score_cell(score: dict[str, Any]) -> str:
    """PSNR (SSIM) of a row, or "inf" where a results file kept no finite value (the image itself)."""
    psnr, ssim = score["psnr"], score["ssim"]
    return f"{'inf' if psnr is None else f'{psnr:.2f}'} ({'—' if ssim is None else f'{ssim:.3f}'})"


def resume_mismatch(earlier: dict[str, Any], cfg: BenchConfig) -> str | None:
    """Why an earlier result cannot be resumed with ``cfg`` (another table or other settings), or None."""
    before = (earlier.get("meta") or {}).get("config") or {}
    now = json.loads(json.dumps(asdict(cfg.effective()), default=str))  # as the results file holds it
    for key in sorted(set(before) | set(now)):
        if key not in RESUMABLE and before.get(key) != now.get(key):
            return (f"the earlier results were run with {key} {before.get(key)!r}, not {now.get(key)!r}; "
                    "give the same settings, or another --json file")
    return None


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
            # a value a results file could not hold (an infinite PSNR: the image itself) reads back as None
            entry = {k: float(np.mean([v[k] for v in vals if v.get(k) is not None] or [np.nan]))
                     for k in ("psnr", "ssim")}
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
                _score_cell(r[m]) if m in r else "—" for m in methods
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
        plain = json.loads(json.dumps(result, default=float))  # numpy numbers to Python's, NaN kept for now
        io.write_text_atomic(json_path, json.dumps(strict_json(plain), indent=1, allow_nan=False) + "\n")
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
