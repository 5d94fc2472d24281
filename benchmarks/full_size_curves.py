"""Full-size PSNR curves of the default denoiser on the paper's sigma-25 set (issue #6), for any device.

The time of a full-size fit on this 2-core CPU is about an hour per 512x512 image, so the quality side of the
full-size target (mean PSNR over the 9 images at a given stopping point) is measured here on whatever
device is at hand, with a preset (``--preset``; without it, the device's default: ``fast`` on a CPU,
``paper`` on a GPU) run to a fixed count (``--stop none``) and the default stopping
rule (``mns-adaptive`` at sigma 25) observing: where it would have stopped, the PSNR of the image it would
have returned, and its statistic at every check (for replays of other waits). Iteration counts carry across
devices (the fit is the same algorithm; the numerics differ only in rounding: bfloat16 kernels of another
device); seconds do not: the CPU time of a stopping point is its iteration count times the CPU's
per-iteration time measured beside the paper configuration (``benchmarks/full_size.py``,
``deepprior bench speed``).

    .venv/bin/python benchmarks/full_size_curves.py --images F16 --device cuda \
        --json benchmarks/results/full_size_curves_F16.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from common import DATA, results_meta
from deepprior import api, io
from deepprior.fit import make_stop_rule
from deepprior.fit.loop import Callback, Fitter, StepState
from deepprior.nets import SkipConfig
from deepprior.tasks import denoise as presets
from stop_eval import Observer

IMAGES = ["F16", "baboon", "hill", "kodim01", "kodim02", "kodim03", "kodim12", "lena", "peppers"]


class Partial(Callback):
    """Writes the curve so far (PSNR of the averaged output every 10 iterations) every ``every`` iterations,
    so that a run cut off by a time limit still leaves its first part."""

    def __init__(self, path: Path, name: str, every: int = 250) -> None:
        self.path, self.name, self.every = path, name, every
        self.curve: list[tuple[int, float | None]] = []

    def on_start(self, fitter: Fitter) -> None:
        self.fitter = fitter

    def on_step(self, state: StepState) -> None:
        if state.iteration % 10 == 0:
            self.curve.append((state.iteration, self.fitter.psnr_reference(state.average)))
        if state.iteration % self.every == 0:
            io.write_bytes_atomic(self.path, json.dumps({"image": self.name, "curve": self.curve}).encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA / "dip-paper/denoising/sigma25",
                    help="folder with NAME_noisy.png and NAME_GT.png")
    ap.add_argument("--images", nargs="+", default=IMAGES)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default: the preset's)")
    ap.add_argument("--preset", default=None, help="preset (default: the default one)")
    ap.add_argument("--width", type=int, default=None,
                    help="channels of every level of `fast`'s denoising network (default: the preset's)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {r["image"] for r in rows}
    if args.width is not None:  # swapped in where the `fast` preset reads it (as studies/width_study.py does)
        presets.FAST_DENOISE_NET = SkipConfig(channels_down=(args.width,) * 5, channels_up=(args.width,) * 5,
                                              channels_skip=(4,) * 5)
    for name in args.images:
        if name in done:
            continue
        noisy = io.load_image(args.data / f"{name}_noisy.png").pixels
        gt = io.load_image(args.data / f"{name}_GT.png").pixels
        ob = Observer("mns-adaptive", make_stop_rule("mns-adaptive", sigma=25, num_iter=args.iters))
        partial = Partial(args.json.with_name(args.json.stem + f"_{name}_partial.json"), name)
        r = api.denoise(noisy, sigma=25, reference=gt, stop="none", num_iter=args.iters, lr=args.lr,
                        preset=args.preset, device=args.device, threads=args.threads, callbacks=[ob, partial])
        best = max((h for h in r.fit.history if h["psnr"] is not None), key=lambda h: h["psnr"])
        fired = ob.fired_at is not None
        rows.append({"image": name, "size": list(noisy.shape[:2]), "final_psnr": r.psnr, "cap": r.fit.iterations,
                     "oracle_psnr": best["psnr"], "oracle_iteration": best["iteration"],
                     "auto": {"rule": "mns-adaptive", "ran": ob.fired_at if fired else r.fit.iterations,
                              "returned_at": ob.returned_at if fired else r.fit.iterations,
                              "psnr": ob.psnr if fired else r.psnr, "trace": ob.trace},
                     "seconds": round(r.fit.seconds, 1), "preset": r.preset, "precision": r.precision,
                     "device": r.config.get("device"), "lr": r.config["fit"]["lr"],
                     "width": r.config["net_config"]["channels_down"][0], "history": r.fit.history})
        print(f"{name}: final {r.psnr:.2f} dB, peak {best['psnr']:.2f} @ {best['iteration']}, auto "
              f"{rows[-1]['auto']['psnr']:.2f} @ {rows[-1]['auto']['returned_at']}, {r.fit.seconds:.0f} s", flush=True)
        meta = {**results_meta(__file__, args),
                "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
        io.write_bytes_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())


if __name__ == "__main__":
    main()
