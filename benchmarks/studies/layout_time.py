"""Per-iteration time of the `fast` skip network in the two memory layouts, channels-first against
channels-last, at several image sizes and one precision (one process, interleaved).

Each case runs the real fitting loop (`fast`'s network, Adam lr 0.01, input noise 0.03) on a random image of
``--channels`` channels; after 2 warm-up iterations the median of the timed ones is kept. The layouts alternate
within each size and the sizes repeat in ``--rounds`` rounds, so that drift of a shared machine hits both alike.
The result gives each size's ratio channels-last / channels-first (above 1: channels-last is slower).

    .venv/bin/python benchmarks/studies/layout_time.py --sizes 160 256 512 --channels 1 --threads 1 \
        --json benchmarks/results/layout_time_fp32.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from deepprior.device import set_threads
from deepprior.fit.config import FitConfig
from deepprior.fit.loop import Callback, Fitter, StepState
from deepprior.nets import get_entry
from deepprior.physics import Identity
from deepprior.presets import FAST_NET


class _Timer(Callback):
    def on_start(self, fitter: Fitter) -> None:
        self.stamps = [time.perf_counter()]

    def on_step(self, state: StepState) -> None:
        self.stamps.append(time.perf_counter())


def time_layout(channels_last: bool, size: int, channels: int, iters: int, precision: str) -> list[float]:
    """Seconds of each iteration after the first two, `fast`'s network on a random ``size`` square."""
    cfg = FitConfig(num_iter=iters, lr=0.01, reg_noise_std=0.03, channels_last=channels_last, precision=precision)
    torch.manual_seed(0)
    net = get_entry("skip").builder(cfg.input_depth, channels, FAST_NET)
    timer = _Timer()
    image = torch.rand(1, channels, size, size)
    Fitter(net, Identity(), image, config=cfg, device="cpu", seed=0, callbacks=[timer]).run()
    return [b - a for a, b in zip(timer.stamps, timer.stamps[1:], strict=False)][2:]


def _cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("avx512", "amx")) or f in ("avx2", "fma"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[160, 256, 512])
    ap.add_argument("--channels", type=int, default=1, help="image channels (1 grey, 3 colour)")
    ap.add_argument("--iters", type=int, default=6, help="per case, the first 2 not timed")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    set_threads(args.threads)
    times: dict[int, dict[str, list[float]]] = {s: {"first": [], "last": []} for s in args.sizes}
    for _ in range(args.rounds):
        for size in args.sizes:
            for layout in ("first", "last"):
                times[size][layout] += time_layout(layout == "last", size, args.channels, args.iters, args.precision)
    rows = []
    for size in args.sizes:
        first, last = (statistics.median(times[size][k]) for k in ("first", "last"))
        rows.append({"size": size, "channels_first_s": round(first, 4), "channels_last_s": round(last, 4),
                     "ratio_last_over_first": round(last / first, 3), "samples": len(times[size]["first"])})
        print(f"{size:>5}x{size:<5} channels-first {first:.3f} s/it  channels-last {last:.3f} s/it  "
              f"ratio {last / first:.2f}")
    if args.json is not None:
        meta = {"command": "python benchmarks/studies/layout_time.py " + " ".join(
                    f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                    for k, v in vars(args).items() if v is not None),
                "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
                "cpu_flags": _cpu_flags(), "threads": args.threads, "precision": args.precision,
                "load_at_start": [round(v, 2) for v in os.getloadavg()],
                "date": time.strftime("%Y-%m-%d %H:%M:%S")}
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
