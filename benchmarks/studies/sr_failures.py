"""The x4 super-resolution failures of issue #5, one fit each: U-Net, ResNet and PG-DIP.

kodim03's 128x128 centre crop (the paper's ground truth) shrunk 4x by Pillow's antialiased bicubic, fitted
600 iterations with ``--stop none`` and the default preset, seed 0, one thread; RGB PSNR against the crop
(bicubic upscaling: 28.57 dB). Each network runs with its registry settings for SR (nets/__init__.py);
a second argument overrides the U-Net's upsampling.

    .venv/bin/python benchmarks/studies/sr_failures.py unet          # 29.22 dB (bilinear, upscaled input)
    .venv/bin/python benchmarks/studies/sr_failures.py unet deconv   # from noise, before: 20.34 dB
    .venv/bin/python benchmarks/studies/sr_failures.py resnet        # 28.26 dB (upscaled input); from noise 21.27
    .venv/bin/python benchmarks/studies/sr_failures.py pg            # 29.46 dB; 8.63 with 190 guard restores before
                                                                     # the guard ignored growth steps
"""

from __future__ import annotations

import argparse
import dataclasses

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop
from deepprior import api, io
from deepprior.baselines import bicubic
from deepprior.metrics import psnr
from deepprior.nets import NETWORKS
from deepprior.tasks import superres


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("net", nargs="?", default="unet", choices=list(NETWORKS))
    ap.add_argument("upsample", nargs="?", default=None,
                    help="the U-Net's upsampling: deconv (its default), nearest, bilinear")
    args = ap.parse_args()
    net = args.net
    if net == "unet" and args.upsample is not None:  # the task's measured tweak for the U-Net, this upsampling
        tweak = superres.NET_TWEAKS["unet"]
        superres.NET_TWEAKS["unet"] = dataclasses.replace(tweak, config={**tweak.config, "upsample": args.upsample})
    gt = centre_crop(io.load_image(DATA / "dip-paper/denoising/sigma25/kodim03_GT.png").pixels, 128)
    small = api.degrade(gt, downscale=4, seed=0).image
    r = api.super_resolve(small, scale=4, net=net, num_iter=600, stop="none", reference=gt, threads=1)
    print(f"{net}: {r.psnr:.2f} dB, bicubic {psnr(bicubic(small.pixels, 4).clip(0, 1), gt):.2f} dB, "
          f"guard restores {r.fit.guard_restores}")
    curve = [h for h in r.fit.history if h.get("psnr") is not None and h["iteration"] % 50 == 0]
    print("PSNR along the fit: " + " ".join(f"{h['iteration']}:{h['psnr']:.2f}" for h in curve))


if __name__ == "__main__":
    main()
