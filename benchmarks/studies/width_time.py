"""Per-iteration time of the `fast` skip network at several widths (issue #6), one process, interleaved.

Each width runs the real fitting loop (bfloat16 autocast, channels-last, Adam lr 0.003, input noise 1/30)
on a random image; after 2 warm-up iterations the median of the timed ones is printed. Widths alternate in
``--rounds`` rounds so that drift of a shared machine hits them alike.

    .venv/bin/python benchmarks/studies/width_time.py --size 256 --widths 64 48 32 96 128 --threads 1

``--top-up N ...`` also times each width with the finest decoder level (the one at full resolution) at N
channels.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from deepprior.device import set_threads
from deepprior.fit.config import FitConfig
from deepprior.fit.loop import Callback, Fitter, StepState
from deepprior.nets import SkipConfig, get_entry
from deepprior.physics import Identity


class _Timer(Callback):
    def on_start(self, fitter: Fitter) -> None:
        self.stamps = [time.perf_counter()]

    def on_step(self, state: StepState) -> None:
        self.stamps.append(time.perf_counter())


def net_config(width: int, top_up: int | None = None) -> SkipConfig:
    """`fast`'s skip network at ``width`` channels, the finest decoder level at ``top_up`` if given."""
    up = (top_up or width,) + (width,) * 4
    return SkipConfig(channels_down=(width,) * 5, channels_up=up, channels_skip=(4,) * 5)


def time_width(width: int, size: int, iters: int, top_up: int | None = None) -> list[float]:
    cfg = FitConfig(num_iter=iters, lr=0.003, reg_noise_std=1 / 30, channels_last=True, precision="bf16")
    torch.manual_seed(0)
    net = get_entry("skip").builder(cfg.input_depth, 3, net_config(width, top_up))
    timer = _Timer()
    Fitter(net, Identity(), torch.rand(1, 3, size, size), config=cfg, device="cpu", seed=0, callbacks=[timer]).run()
    return [b - a for a, b in zip(timer.stamps, timer.stamps[1:], strict=False)][2:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--widths", type=int, nargs="+", default=[64, 48, 32])
    ap.add_argument("--iters", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--top-up", type=int, nargs="*", default=[], help="also these finest decoder widths")
    args = ap.parse_args()
    set_threads(args.threads)
    cases = [(w, t) for w in args.widths for t in (None, *args.top_up)]
    times: dict[tuple[int, int | None], list[float]] = {c: [] for c in cases}
    for _ in range(args.rounds):
        for w, t in cases:
            times[w, t] += time_width(w, args.size, args.iters, t)
    for w, t in cases:
        label = f"width {w}" + ("" if t is None else f", finest decoder level {t}")
        print(f"{label}: {statistics.median(times[w, t]):.3f} s / iteration (median of {len(times[w, t])}), "
              f"{args.size}x{args.size}, {torch.get_num_threads()} thread(s)")


if __name__ == "__main__":
    main()
