"""The web page's latency and memory (issue #22): time from pressing Restore to the first preview, and the
server's resident memory with one fit running, on a 256x256 photo.

Starts `deepprior serve` as its own process on a free local port, uploads a 256x256 crop of scikit-image's
astronaut with Gaussian noise (sigma 25, seed 0), asks for `denoise` as the page does (POST /api/jobs), then
polls the job every 50 ms: "first preview" is the time from the POST until the first preview PNG has been
fetched (the page itself polls every 0.7 s, which adds up to 0.7 s). RSS (VmRSS of the server process) is
sampled every 0.25 s while the fit runs for --seconds, then the job is stopped from the page's Stop route.

    .venv/bin/python benchmarks/web_latency.py --threads 2 --repeats 3 --out benchmarks/results/web_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return bytes(r.read())


def _json(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return dict(json.loads(r.read()))


def _upload(base: str, path: Path) -> dict:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/api/uploads", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return dict(json.loads(r.read()))


def _photo(folder: Path) -> Path:
    from skimage import data

    from deepprior import io

    clean = data.astronaut()[0:256, 128:384].astype(np.float32) / 255
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape), 0, 1)
    path = folder / "astronaut256_sigma25.png"
    io.save_image(path, np.round(noisy * 255).astype(np.uint8))
    return path


def one_run(base: str, pid: int, upload_id: str, seconds: float) -> dict:
    body = {"task": "denoise", "images": {"image": upload_id}, "options": {"sigma": "25"}, "settings": {}}
    t0 = time.perf_counter()
    job = _json(base + "/api/jobs", body)
    accepted = time.perf_counter() - t0
    first = None
    while first is None and time.perf_counter() - t0 < 120:
        status = _json(f"{base}/api/jobs/{job['id']}")
        if status["preview"] >= 1:
            _get(f"{base}/api/jobs/{job['id']}/preview.png")
            first = time.perf_counter() - t0
            break
        time.sleep(0.05)
    rss = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        rss.append(_rss_mb(pid))
        _json(f"{base}/api/jobs/{job['id']}")  # the heartbeat
        time.sleep(0.25)
    status = _json(f"{base}/api/jobs/{job['id']}")
    _json(f"{base}/api/jobs/{job['id']}/stop", {})
    while status["state"] not in ("done", "failed", "cancelled"):
        time.sleep(0.2)
        status = _json(f"{base}/api/jobs/{job['id']}")
    return {"accepted_s": round(accepted, 3), "first_preview_s": None if first is None else round(first, 3),
            "rss_mb_median": round(statistics.median(rss), 1), "rss_mb_max": round(max(rss), 1),
            "iterations": status["summary"].get("iterations"), "seconds_per_iteration":
            round(status["summary"]["seconds"] / max(1, status["summary"]["iterations"]), 4),
            "preset": status["summary"].get("preset"), "stop_reason": status["summary"].get("stop_reason")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each fit runs while RSS is sampled")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    load_before = round(os.getloadavg()[0], 2)  # the machine is shared: say how busy it was
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "deepprior.cli", "serve", "--port", str(port), "--threads",
                               str(args.threads), "--device", "cpu"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                _get(base + "/api/form")
                break
            except OSError:
                time.sleep(0.1)
        idle = _rss_mb(server.pid)
        with tempfile.TemporaryDirectory() as folder:
            upload = _upload(base, _photo(Path(folder)))
        after_upload = _rss_mb(server.pid)
        runs = [one_run(base, server.pid, upload["id"], args.seconds) for _ in range(args.repeats)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    from deepprior.bench.meta import run_metadata

    firsts = [r["first_preview_s"] for r in runs if r["first_preview_s"] is not None]
    result = {
        "meta": run_metadata(vars(args) | {"image": "astronaut[0:256, 128:384] + N(0, 25/255), seed 0",
                                           "task": "denoise --sigma 25, default preset"}),
        "load_average_1min_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "rss_mb_idle": round(idle, 1), "rss_mb_after_upload": round(after_upload, 1),
        "first_preview_s_median": round(statistics.median(firsts), 3) if firsts else None,
        "rss_mb_running_max": max(r["rss_mb_max"] for r in runs), "runs": runs,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
