"""Issue #29, item 4: the levers not yet measured, each on single tiles of the tiled default.

A tile is cut exactly as the default's tiled run cuts it (``tile_grid``, 128 core plus 16 of overlap: 160x160
inside the image), fitted alone with ``sigma=25`` at one thread, and scored against the same cut of the ground
truth (the truth only scores; ``oracle`` is the best PSNR the returned image reached before the stop). Variants:

- ``default``: what a tile of the no-flag default gets (``fast``, lr 0.01, the automatic stop ``mns-adaptive``
  with its 25 hits). Its run also records the iteration and PSNR of every hit of the stop rule, so the stop rule's
  *wait* is measured exactly without another fit: ``hits13`` and ``hits18`` are the same fit stopped at the 13th
  and 18th hit (the fit up to there is the same fit).
- ``lr0.03-300``: a first phase with a larger step, lr 0.03 for 300 iterations, then the default's 0.01 (the first
  ~400 iterations of a tile go to producing any image at all).
- ``levels4``: the skip network with 4 levels instead of 5 (a 160x160 tile's coarsest level is 10x10).
- ``finest1x1``: a cheaper finest level: its decoder convolution 1x1 instead of 3x3 (at full resolution that
  convolution is about half of the network's arithmetic).
- ``pg``: the progressively grown skip network (``--net pg``).
- ``sure``: the noisy tile itself as the network's input and the SURE data term (Jo, Chun and Choi, "Rethinking
  Deep Image Prior for Denoising", ICCV 2021), with the Monte-Carlo divergence of Ramani, Blu and Unser (IEEE TIP
  2008). SURE needs only sigma. Its own stop: the lowest exponentially smoothed SURE value, after 300 iterations
  without a new low; the image returned is the output average at that low.

Iterations do not depend on the machine; seconds do, and two studies at a time slow each other (say so).

    .venv/bin/python benchmarks/studies/tile_levers.py --images F16 baboon --tiles 5 \\
        --variants default lr0.03-300 levels4 finest1x1 pg sure --json benchmarks/results/tile_levers.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, paper_tiles, results_meta
from deepprior import api, io
from deepprior.fit.loop import Callback, Fitter, StepState
from deepprior.fit.stopping.method_noise import MethodNoise
from deepprior.metrics import psnr
from deepprior.nets import SkipConfig, build_net
from deepprior.tasks import denoise as denoise_task

SIGMA = 25.0
#: The first phase of ``lr0.03-300``.
FIRST_LR, FIRST_ITERS = 0.03, 300
#: SURE's stop: iterations without a new low of the smoothed SURE, and the smoothing weight.
SURE_WAIT, SURE_SMOOTH, SURE_CAP = 300, 0.9, 3000


def saved_psnr(image: torch.Tensor, gt: np.ndarray) -> float:
    """PSNR of a ``1 x C x H x W`` image as an 8-bit file holds it, as ``Restoration.psnr`` scores (the truth is
    8-bit)."""
    return psnr(io.quantize(io.from_tensor(image), 8), gt)


class FirstPhase(Callback):
    """Adam's step is ``FIRST_LR`` for the first ``FIRST_ITERS`` iterations, then the fit's own."""

    def on_start(self, fitter: Fitter) -> None:
        self.fitter, self.lr = fitter, fitter.config.lr
        self._set(FIRST_LR)

    def on_step(self, state: StepState) -> None:
        if state.iteration == FIRST_ITERS:
            self._set(self.lr)

    def _set(self, lr: float) -> None:
        for group in self.fitter.optimizer.param_groups:
            group["lr"] = lr


def run_api(noisy: np.ndarray, gt: np.ndarray, variant: str, cap: int | None = None) -> dict[str, Any]:
    """One tile through ``api.denoise`` (the product's own fit), with the variant's change."""
    options: dict[str, Any] = {"sigma": SIGMA, "reference": gt, "threads": 1, "lr": 0.01}
    if cap is not None:
        options["num_iter"] = cap
    hits: list[list[float]] = []
    original_update, original_net = MethodNoise.update, denoise_task.FAST_DENOISE_NET

    def recording_update(self: MethodNoise, state: Any) -> bool:
        before = self.count
        done = original_update(self, state)
        if self.count > before:
            hits.append([state.iteration, round(saved_psnr(state.average, gt), 3)])
        return done

    if variant == "lr0.03-300":
        options["callbacks"] = [FirstPhase()]
    elif variant == "levels4":
        denoise_task.FAST_DENOISE_NET = SkipConfig(channels_down=(48,) * 4, channels_up=(48,) * 4,
                                                   channels_skip=(4,) * 4)
    elif variant == "finest1x1":
        denoise_task.FAST_DENOISE_NET = replace(original_net, kernel_up=(1, 3, 3, 3, 3))
    elif variant == "pg":
        options["net"] = "pg"
    MethodNoise.update = recording_update  # type: ignore[method-assign]
    try:
        r = api.denoise(noisy, **options)
    finally:
        MethodNoise.update = original_update  # type: ignore[method-assign]
        denoise_task.FAST_DENOISE_NET = original_net
    scored = [h for h in r.fit.history if h.get("psnr") is not None]
    best = max(scored, key=lambda h: h["psnr"])
    row = {"psnr": r.psnr, "iterations": r.fit.iterations, "seconds": round(r.fit.seconds, 1),
           "oracle_psnr": best["psnr"], "oracle_iteration": best["iteration"], "net": r.net,
           "lr": r.config["fit"]["lr"], "precision": r.precision, "stop": r.fit.stop_reason, "hits": hits,
           "curve": [[h["iteration"], round(h["psnr"], 3)] for h in scored]}
    if variant == "default":  # the same fit stopped at an earlier hit: the stop rule's wait
        row["replay"] = {f"hits{k}": {"iterations": hits[k - 1][0], "psnr": hits[k - 1][1]}
                         for k in (13, 18, 25) if len(hits) >= k}
    return row


def run_sure(noisy: np.ndarray, gt: np.ndarray, seed: int = 0, cap: int = SURE_CAP) -> dict[str, Any]:
    """DIP with the noisy tile as input and the SURE data term (Jo et al., ICCV 2021).

    ``SURE(f) = |y - f(y)|^2 / N - s^2 + 2 s^2 div f(y) / N``, with the divergence estimated by one Monte-Carlo
    probe ``b`` (Ramani et al., 2008): ``div f(y) ~ b . (f(y + e b) - f(y)) / e``; ``s`` = sigma on [0, 1].
    """
    torch.manual_seed(seed)
    s = SIGMA / 255.0
    y = io.to_tensor(noisy)
    net = build_net("skip", in_channels=y.shape[1], out_channels=y.shape[1], config=denoise_task.FAST_DENOISE_NET)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    eps = 1e-3
    n = y.numel()
    average: torch.Tensor | None = None
    smoothed = math.inf
    best: tuple[float, int, torch.Tensor] | None = None
    curve: list[list[float]] = []
    started = time.perf_counter()
    it = 0
    for it in range(1, cap + 1):
        opt.zero_grad(set_to_none=True)
        b = torch.randn_like(y)
        out = net(y)
        shifted = net(y + eps * b)
        div = (b * (shifted - out)).sum() / eps
        loss = ((y - out) ** 2).sum() / n - s * s + 2 * s * s * div / n
        loss.backward()
        opt.step()
        out = out.detach()
        average = out if average is None else 0.99 * average + 0.01 * out
        value = float(loss.detach())
        smoothed = value if math.isinf(smoothed) else SURE_SMOOTH * smoothed + (1 - SURE_SMOOTH) * value
        if best is None or smoothed < best[0]:
            best = (smoothed, it, average.clone())
        if it % 10 == 0:
            image = average[0].permute(1, 2, 0).clamp(0, 1).numpy()
            curve.append([it, round(psnr(image, gt), 3)])
        if it - best[1] >= SURE_WAIT:
            break
    seconds = time.perf_counter() - started
    assert best is not None
    chosen = saved_psnr(best[2], gt)
    peak = max(curve, key=lambda c: c[1], default=[best[1], round(chosen, 3)])
    return {"psnr": chosen, "iterations": it, "chosen_iteration": best[1],
            "seconds": round(seconds, 1), "oracle_psnr": peak[1], "oracle_iteration": peak[0], "net": "skip",
            "lr": 0.01, "precision": "fp32", "stop": "sure-min" if it < cap else "cap", "curve": curve}


VARIANTS = ("default", "lr0.03-300", "levels4", "finest1x1", "pg", "sure")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=["F16", "baboon"])
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--overlap", type=int, default=16)
    ap.add_argument("--tiles", nargs="+", type=int, default=[5])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--iters", type=int, default=None, help="an iteration cap, for a quick check of the script")
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {(r["image"], r["tile"], r["variant"]) for r in rows}
    for name, index, region, noisy, gt in paper_tiles(args.data, args.images, args.tiles, args.tile, args.overlap):
        for variant in args.variants:
            if (name, index, variant) in done:
                continue
            row = (run_sure(noisy, gt, cap=args.iters or SURE_CAP) if variant == "sure"
                   else run_api(noisy, gt, variant, args.iters))
            row = {"image": name, "tile": index, "region": region, "variant": variant, **row,
                   "s_per_iter": round(row["seconds"] / max(row["iterations"], 1), 4)}
            rows.append(row)
            print(f"{name} tile {index} {variant}: {row['psnr']:.2f} dB at {row['iterations']} it "
                  f"({row['seconds']:.0f} s); oracle {row['oracle_psnr']:.2f} @ {row['oracle_iteration']}",
                  flush=True)
            meta = results_meta(__file__, args)
            io.write_bytes_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())


if __name__ == "__main__":
    main()
