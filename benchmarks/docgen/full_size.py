"""Tables and figures of the full-size sections (issue #6): `fast` on the CPU, the paper configuration's curves
on the H100, and `fast` with 32 channels."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from docgen.markdown import table
from docgen.results import Row, at, first_reaching, last_iteration, mean, ratio, ref_s, rows

#: The full-size CPU runs of today's default (`fast`, 48 channels), with their reference timings.
CPU_W48 = ("full_size_sigma25_w48.json", "full_size_sigma25_w48_b.json")
CPU_64 = "full_size_sigma25.json"  # `fast` with 64 channels, before
PAPER, REPLICATE = "full_size_curves_h100_paper3000.json", "full_size_curves_h100_paper1800.json"
W32 = "full_size_curves_cpu_fast_w32.json"
#: Iterations at which the full-size curves are tabulated (1310: where `fast`'s measured CPU ratio reaches 0.1).
CURVE_POINTS = (500, 1000, 1310, 1500, 1800, 2500, 3000)


def cpu_table(*names: str) -> str:
    """The default denoiser on full-size images, with the ratio to the reference's 1800 iterations."""
    rs = rows(*names)
    body = []
    for r in rs:
        first = first_reaching(r["history"], 30.43)  # its ratio: iterations of even cost
        reach = "never" if first is None else f"{first}, {ratio(r) * first / r['iterations']:.3f}"
        body.append([r["image"], f"{r['psnr']:.2f}", r["iterations"], r["stop"]["name"], f"{r['seconds']:.0f}",
                     f"{ref_s(r):.2f}", f"{ratio(r):.3f}", f"{r['oracle_psnr']:.2f} ({r['oracle_iteration']})", reach])
    if len(rs) > 1:
        body.append([f"**mean ({len(rs)})**", f"**{mean(r['psnr'] for r in rs):.2f}**",
                     f"{mean(r['iterations'] for r in rs):.0f}", "", "", "", f"**{mean(ratio(r) for r in rs):.3f}**",
                     "", ""])
    return table(["image", "PSNR", "iterations", "stop", "seconds", "reference s / iteration", "ratio",
                  "oracle peak (iteration)", "first >= 30.43 dB (iteration, ratio)"], body)


def paper_mean_at(it: int) -> float:
    """The paper configuration's mean PSNR over the images at iteration ``it``."""
    return mean(at(r["history"], it) or 0.0 for r in rows(PAPER))


def _replicates() -> dict[str, Row]:
    return {r["image"]: r for r in rows(REPLICATE)}


def replicate_1800() -> list[float]:
    """The replicate runs' PSNR at 1800 iterations, of the images in the main run."""
    rep = _replicates()
    return [v for r in rows(PAPER) if r["image"] in rep and (v := at(rep[r["image"]]["history"], 1800)) is not None]


def paper_table() -> str:
    rep, runs, body = _replicates(), rows(PAPER), []
    for r in runs:
        p18 = at(rep[r["image"]]["history"], 1800) if r["image"] in rep else None
        body.append([r["image"], f"{r['size'][1]}x{r['size'][0]}",
                     *(f"{at(r['history'], c):.2f}" for c in CURVE_POINTS),
                     f"{r['auto']['psnr']:.2f} @ {r['auto']['returned_at']}",
                     f"{r['oracle_psnr']:.2f} @ {r['oracle_iteration']}", "—" if p18 is None else f"{p18:.2f}"])
    body.append([f"**mean ({len(runs)})**", "", *(f"**{paper_mean_at(c):.2f}**" for c in CURVE_POINTS),
                 f"**{mean(r['auto']['psnr'] for r in runs):.2f}**", f"{mean(r['oracle_psnr'] for r in runs):.2f}",
                 f"{mean(replicate_1800()):.2f}" if replicate_1800() else "—"])
    return table(["image", "size", *(f"@{c}" for c in CURVE_POINTS), "`mns-adaptive` stop", "oracle peak",
                  "replicate @1800"], body)


def _pair(a: Row, b: Row, c: int) -> str:
    """``A / B``: two runs' PSNR at iteration ``c``, or a dash where the first did not run that far."""
    x = at(a["history"], c) if c <= last_iteration(a) else None
    y = at(b["history"], c)
    return "—" if x is None or y is None else f"{x:.2f} / {y:.2f}"


def fast_vs_paper_table() -> str:
    """`fast` on the CPU (the full-size runs with a history) against the paper configuration's curve."""
    paper = {r["image"]: r for r in rows(PAPER)}
    points = (1000, 1400, 2000, 3000)
    cpu = [r for r in rows(*CPU_W48, "full_size_curves_cpu_fast.json") if r["image"] in paper]
    return table(["image", *(f"`fast` CPU / `paper` GPU @{c}" for c in points)],
                 [[r["image"], *(_pair(r, paper[r["image"]], c) for c in points)] for r in cpu])


def _w48_of(image: str) -> Row:
    return next(r for r in rows(*CPU_W48) if r["image"] == image)


def w32_table() -> str:
    """`fast` with 32 channels on a full-size image on the CPU, against the 48-channel run of the same image."""
    points = (500, 1000, 1400, 2000, 3000)
    body = []
    for r in rows(W32):
        other = _w48_of(r["image"])
        body.append([r["image"], *(_pair(r, other, c) for c in points),
                     f"{r['seconds'] / r['cap']:.2f} ({other['seconds'] / other['iterations']:.2f})"])
    return table(["image", *(f"32 / 48 @{c}" for c in points), "s / iteration, 32 (48)"], body)


# --- Figures -----------------------------------------------------------------------------------------------

def _disturbed_averaged_ratio() -> float:
    """The mean ratio of the full-size rows whose reference timing was disturbed, had it been averaged."""
    disturbed = [r for r in rows(*CPU_W48) if ref_s(r) != mean(r["reference_s_per_iter"])]
    return mean(r["seconds"] / (1800 * mean(r["reference_s_per_iter"])) for r in disturbed)


def _cpu_ratio() -> float:
    """`fast`'s CPU seconds per iteration over the paper configuration's, mean over today's full-size CPU runs."""
    return mean(r["seconds"] / r["iterations"] / ref_s(r) for r in rows(*CPU_W48))


def _reach_30_43(width: int) -> tuple[int, float]:
    """Where the 32-channel full-size run (``width`` 32), or the 48-channel run of its image, first reached
    30.43 dB, and the time to it over the 48-channel run's reference time (iterations of even cost)."""
    w32 = rows(W32)[0]
    w48 = _w48_of(w32["image"])
    run, its = (w32, w32["cap"]) if width == 32 else (w48, w48["iterations"])
    first = first_reaching(run["history"], 30.43)
    if first is None:
        raise ValueError(f"the {width}-channel run of {w32['image']} never reached 30.43 dB")
    return first, run["seconds"] * first / its / (1800 * ref_s(w48))


def _images_of(name: str) -> str:
    """The images of a results file, in its order, space-separated (as a command's ``--images`` takes them)."""
    return " ".join(r["image"] for r in rows(name))


def _paper_overfit(image: str, it: int) -> float:
    """How far an image's paper-configuration curve has fallen from its peak at iteration ``it``."""
    r = next(r for r in rows(PAPER) if r["image"] == image)
    return r["oracle_psnr"] - at(r["history"], it)


TABLES: dict[str, Callable[[], str]] = {
    "table_full_size_64": lambda: cpu_table(CPU_64),
    "table_full_size_w48": lambda: cpu_table(*CPU_W48),
    "table_paper_curves": paper_table,
    "table_fast_vs_paper": fast_vs_paper_table,
    "table_width32": w32_table,
}

VALUES: dict[str, Callable[[], Any]] = {
    # The CPU runs (`fast`).
    "full_size_disturbed_averaged_ratio": _disturbed_averaged_ratio,
    "full_size_64_images": lambda: len(rows(CPU_64)),
    "full_size_w48_images": lambda: len(rows(*CPU_W48)),
    # images_of_full_size_sigma25, images_of_full_size_sigma25_w48, images_of_full_size_sigma25_w48_b
    **{f"images_of_{n.removesuffix('.json')}": partial(_images_of, n) for n in (CPU_64, *CPU_W48)},
    # The paper configuration's curves, and what they say of `fast`.
    "paper_mean_1800": lambda: paper_mean_at(1800),
    "paper_mean_2500": lambda: paper_mean_at(2500),
    "paper_mean_3000": lambda: paper_mean_at(3000),
    "paper_replicate_1800": lambda: mean(replicate_1800()),
    "paper_mean_auto": lambda: mean(r["auto"]["psnr"] for r in rows(PAPER)),
    "paper_hill_overfit_3000": lambda: _paper_overfit("hill", 3000),
    "cpu_ratio": _cpu_ratio,
    "cpu_ratio_runs": lambda: len(rows(*CPU_W48)),
    "cpu_ratio_3000": lambda: 3000 * _cpu_ratio() / 1800,
    "cpu_iters_at_0_1": lambda: 1800 * 0.1 / _cpu_ratio(),
    "paper_mean_at_cpu_iters_0_1": lambda: paper_mean_at(int(round(1800 * 0.1 / _cpu_ratio(), -1))),
    # 32 channels against 48.
    "w32_first_30_43": lambda: _reach_30_43(32)[0],
    "w32_ratio_30_43": lambda: _reach_30_43(32)[1],
    "w32_beside_w48_first_30_43": lambda: _reach_30_43(48)[0],
    "w32_beside_w48_ratio_30_43": lambda: _reach_30_43(48)[1],
}
