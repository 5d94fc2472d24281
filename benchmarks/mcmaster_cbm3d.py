"""CBM3D on McMaster at sigma 25: the classical column beside the default's McMaster results (issue #29).

The 18 McMaster images (``../shared/data/mcmaster``, 500x500 colour) get Gaussian noise of sigma 25 drawn by
:func:`common.mcmaster_noisy` (fixed per image, rounded and clipped to 8 bits), the same noisy images that
``device_default.py`` restores with deepprior's default; each row keeps the noisy image's fingerprint so the two
can be matched. CBM3D (Dabov et al., ICIP 2007) comes from the ``bm3d`` package (``pip install ".[bm3d]"``),
given the true sigma; PSNR over the whole image in [0, 1].

    cd benchmarks && ../.venv/bin/python mcmaster_cbm3d.py --json results/mcmaster_cbm3d.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from common import DATA, mcmaster_noisy, results_meta
from deepprior import io
from deepprior.metrics import psnr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA / "mcmaster")
    ap.add_argument("--images", nargs="+", default=[str(i) for i in range(1, 19)])
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    import bm3d  # type: ignore[import-not-found]

    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {r["image"] for r in rows}
    for name in args.images:
        if name in done:
            continue
        clean8 = np.asarray(Image.open(args.data / f"{name}.tif").convert("RGB"))
        noisy8 = mcmaster_noisy(clean8, name)
        clean, noisy = clean8.astype(np.float64) / 255, noisy8.astype(np.float64) / 255
        started = time.perf_counter()
        out = np.clip(np.asarray(bm3d.bm3d_rgb(noisy, 25 / 255)), 0, 1)
        seconds = time.perf_counter() - started
        rows.append({"image": name, "size": list(clean8.shape[:2]),
                     "noisy_sha1": hashlib.sha1(noisy8.tobytes()).hexdigest()[:12],
                     "input_psnr": psnr(noisy, clean), "cbm3d_psnr": psnr(out, clean), "seconds": round(seconds, 1)})
        print(f"{name}: input {rows[-1]['input_psnr']:.2f} dB, CBM3D {rows[-1]['cbm3d_psnr']:.2f} dB, "
              f"{seconds:.0f} s", flush=True)
        payload = {"meta": results_meta(__file__, args), "rows": rows}
        io.write_bytes_atomic(args.json, json.dumps(payload, indent=1).encode())
    if rows:
        print(f"mean over {len(rows)}: CBM3D {np.mean([r['cbm3d_psnr'] for r in rows]):.2f} dB")


if __name__ == "__main__":
    main()
