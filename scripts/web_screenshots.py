"""The README's screenshots of the web page, one per task: docs/images/web-TASK.png.

Starts the server in a thread, drives the system's headless Chromium (Playwright, no browser download)
through each task's page with a small image (96x96 crops of scikit-image's pictures, damaged with the
project's own `degrade`), runs --iters iterations (inpaint: 400, after three brush strokes) and takes the
page once the result is shown.

    .venv/bin/python scripts/web_screenshots.py --iters 60
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import deepprior
from deepprior import io

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def inputs(folder: Path) -> dict[str, dict]:
    """Per task: its files (by input name) and the options to fill in."""
    from PIL import Image
    from skimage import data

    clean = data.astronaut()[30:126, 190:286]
    io.save_image(folder / "clean.png", clean)
    noisy = deepprior.degrade(clean, sigma=25, seed=0).image
    io.save_image(folder / "noisy.png", noisy)
    small = np.asarray(Image.fromarray(data.chelsea()[60:252, 110:302]).resize((48, 48), Image.Resampling.BICUBIC))
    io.save_image(folder / "small.png", small)
    Image.fromarray(clean).save(folder / "compressed.jpg", quality=8)
    dark = deepprior.degrade((clean * 0.35).astype(np.uint8), sigma=12, seed=1).image
    io.save_image(folder / "noflash.png", dark)
    blurred = deepprior.degrade(clean, blur="gaussian:1.6", sigma=2, seed=0).image
    io.save_image(folder / "blurred.png", blurred)
    return {
        "denoise": {"files": {"image": "noisy.png"}, "options": {"sigma": "25"}},
        "inpaint": {"files": {"image": "clean.png"}, "options": {}, "draw": True, "iters": 400},
        "super-resolve": {"files": {"image": "small.png"}, "options": {"scale": "2"}},
        "jpeg": {"files": {"image": "compressed.jpg"}, "options": {}},
        "flash-no-flash": {"files": {"flash": "clean.png", "noflash": "noflash.png"}, "options": {}},
        "deblur": {"files": {"image": "blurred.png"}, "options": {"kernel": "gaussian:1.6", "sigma": "2"}},
    }


def start_server(work: Path, threads: int) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from deepprior.web.server import ServerConfig, create_app

    app = create_app(ServerConfig(device="cpu", threads=threads, preview_every=1.0), work_root=work)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def shoot(page, base: str, folder: Path, task: str, spec: dict, iters: int, out: Path) -> None:
    page.goto(base)
    page.wait_for_selector("#task option", state="attached")
    page.select_option("#task", task)
    for name, file in spec["files"].items():
        page.set_input_files(f"#input-{name}", str(folder / file))
        page.wait_for_function(f"document.getElementById('info-{name}').textContent.includes('x')")
    for name, value in spec["options"].items():
        if page.eval_on_selector(f"#opt-{name}", "e => e.tagName") == "SELECT":
            page.select_option(f"#opt-{name}", value)
        else:
            page.fill(f"#opt-{name}", value)
    if spec.get("draw"):
        page.wait_for_function("document.getElementById('photo').naturalWidth > 0")  # the stage has its size
        box = page.locator("#mask").bounding_box()
        for k, (x0, y0, x1, y1) in enumerate([(0.15, 0.3, 0.85, 0.35), (0.5, 0.1, 0.55, 0.9), (0.2, 0.75, 0.7, 0.6)]):
            page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y1, steps=12 + k)
            page.mouse.up()
    page.fill("#num_iter", str(spec.get("iters", iters)))
    page.click("#restore")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('done')", timeout=600_000)
    page.wait_for_timeout(400)
    page.screenshot(path=str(out), full_page=True)
    from PIL import Image

    with Image.open(out) as shot:  # 256 colours: a third of the bytes, the page still legible
        shot.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default=None, help="one task")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        specs = inputs(folder)
        base, server, thread = start_server(folder / "server", args.threads)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 900}, bypass_csp=True)
            for task, spec in specs.items():
                if args.only and task != args.only:
                    continue
                out = args.out / f"web-{task}.png"
                started = time.perf_counter()
                shoot(page, base, folder, task, spec, args.iters, out)
                print(f"{out.relative_to(ROOT)} ({time.perf_counter() - started:.0f} s)", flush=True)
            browser.close()
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=15)


if __name__ == "__main__":
    main()
