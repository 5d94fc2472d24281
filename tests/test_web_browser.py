"""The web page end to end in a real browser: the system's headless Chromium driven by Playwright.

No browser is downloaded (never ``playwright install``): Debian's ``chromium`` package (``make browser``).
A uvicorn server runs in a thread on a free local port; the test uploads a 48x48 16-bit photo, paints a
mask stroke, runs 20 iterations, watches the preview change on a second run and stops it, downloads both
results (48x48, 16-bit), and sees the page's message for a bad upload and for a mask of another size.
"""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

if not Path(CHROMIUM).exists():
    pytest.skip(f"no {CHROMIUM}: install Debian's chromium (make browser) to run the browser test",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (dev extra)")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed")

from deepprior import io  # noqa: E402
from deepprior.web.server import ServerConfig, create_app  # noqa: E402


@pytest.fixture
def server(tmp_path):
    config = ServerConfig(device="cpu", threads=1, preview_every=0.3)
    app = create_app(config, work_root=tmp_path / "server")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 20
    while not srv.started and time.monotonic() < end:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)
    sock.close()


def _files(folder: Path) -> dict[str, Path]:
    yy, xx = np.mgrid[0:48, 0:48] / 48
    base = np.stack([np.sin(6 * xx), np.cos(5 * yy), np.sin(4 * (xx + yy))], axis=2) * 0.35 + 0.5
    noisy = np.clip(base + np.random.default_rng(0).normal(0, 0.08, base.shape), 0, 1)
    paths = {"photo": folder / "photo.png", "mask": folder / "small-mask.png", "bad": folder / "notes.png"}
    io.save_image(paths["photo"], np.round(noisy * 65535).astype(np.uint16))
    io.save_image(paths["mask"], np.full((40, 40), 255, np.uint8))
    paths["bad"].write_text("not an image at all\n")
    return paths


def _png_size_depth(path: Path) -> tuple[int, int, int]:
    head = path.read_bytes()[:26]
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"), head[24]


def _stroke(page) -> None:
    page.wait_for_function("document.getElementById('photo').naturalWidth > 0")  # the canvas has its size
    box = page.locator("#mask").bounding_box()
    y = box["y"] + box["height"] * 0.45
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, y + 8, steps=8)
    page.mouse.up()


def _wait_done(page, timeout_ms: int = 60_000) -> str:
    page.wait_for_function("document.getElementById('status').textContent.startsWith('done')", timeout=timeout_ms)
    return page.text_content("#status") or ""


def test_the_page_restores_draws_a_mask_stops_and_downloads(server, tmp_path):
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():  # pragma: no cover
        pytest.skip("no chromium")
    files = _files(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(accept_downloads=True, bypass_csp=True)  # the checks below evaluate scripts
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(server) else outside.append(r.url))
        page.goto(server)
        page.wait_for_selector("#task option", state="attached")  # the form comes from /api/form
        tasks = page.locator("#task option").all_text_contents()  # in people's words, from the registry
        assert tasks[:3] == ["Remove noise", "Fill in missing pixels", "Enlarge (super-resolution)"]
        options = page.text_content("#options") or ""  # denoise: the fields say what they are, the flag a hint
        assert "Noise level (0-255)" in options and "--sigma" in options and "Noise type" in options
        assert page.is_visible("#preview-placeholder") and not page.is_visible("#preview")  # no broken image
        # an image dropped on the form is uploaded as a chosen one; then the time is estimated before Restore
        data = base64.b64encode(files["photo"].read_bytes()).decode()
        dropped = page.evaluate_handle("""(data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
            return transfer;
        }""", data)
        page.dispatch_event("#setup", "drop", {"dataTransfer": dropped})
        page.wait_for_function("document.getElementById('info-image').textContent.includes('48x48')")
        page.wait_for_function("document.getElementById('estimate').textContent.startsWith('Estimated time: about')",
                               timeout=60_000)
        assert "on this server" in (page.text_content("#estimate") or "")
        page.select_option("#task", "inpaint")
        page.set_input_files("#input-image", str(files["photo"]))
        page.wait_for_function("document.getElementById('info-image').textContent.includes('48x48')")
        assert "16-bit" in (page.text_content("#info-image") or "")
        _stroke(page)
        assert page.evaluate("Draw && document.getElementById('mask').getContext('2d')"
                             ".getImageData(0, 0, 48, 48).data.some((v, i) => i % 4 === 3 && v > 64)")
        page.fill("#num_iter", "20")
        page.click("#restore")
        status = _wait_done(page)
        assert "20 iterations (max_iter)" in status
        assert page.is_visible("#results") and page.get_attribute("#preview", "src")
        assert page.is_visible("#preview") and not page.is_visible("#preview-placeholder")
        with page.expect_download() as download:
            page.click("#download-image")
        first = tmp_path / "first.png"
        download.value.save_as(first)
        assert _png_size_depth(first) == (48, 48, 16)

        # a second, long run: the preview changes while it runs, then Stop returns the current image
        page.fill("#num_iter", "100000")
        page.click("#restore")
        captions: set[str] = set()
        end = time.monotonic() + 60
        while len(captions) < 3 and time.monotonic() < end:
            caption = page.text_content("#preview-caption") or ""
            if "iteration" in caption:
                captions.add(caption)
            page.wait_for_timeout(100)
        assert len(captions) >= 3, captions  # the preview was refreshed twice while the fit ran
        page.click("#stop-button")
        assert "(interrupted)" in _wait_done(page)
        with page.expect_download() as download:
            page.click("#download-image")
        stopped = tmp_path / "stopped.png"
        download.value.save_as(stopped)
        assert _png_size_depth(stopped) == (48, 48, 16)
        report = page.request.get(server + page.get_attribute("#download-report", "href")).json()
        assert report["stop_reason"] == "interrupted" and report["iterations"] < 100000

        # bad input: the message is on the page, never a stack trace
        page.click("#clear-mask")
        page.set_input_files("#mask-file", str(files["mask"]))
        page.wait_for_timeout(300)
        page.fill("#num_iter", "5")
        page.click("#restore")
        page.wait_for_selector("#message:not([hidden])")
        assert page.text_content("#message") == "mask is 40x40 but the image is 48x48"
        page.set_input_files("#input-image", str(files["bad"]))
        page.wait_for_function("document.getElementById('message').textContent.includes('notes.png')")
        message = page.text_content("#message") or ""
        assert message.startswith("cannot read image notes.png") and "Traceback" not in message
        assert outside == []  # the page asked nothing of any other server
        browser.close()


def test_an_example_restores_in_one_click(server):
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():  # pragma: no cover
        pytest.skip("no chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(bypass_csp=True)  # the checks below evaluate scripts
        page.goto(server)
        page.wait_for_selector("#task option", state="attached")
        page.select_option("#task", "deblur")
        page.click("#example")
        page.wait_for_function("document.getElementById('info-image').textContent.startsWith('the example')")
        assert page.input_value("#opt-kernel") == "gaussian:1"  # the example's own options fill the form
        page.fill("#num_iter", "15")
        page.click("#restore")
        status = _wait_done(page)
        assert "15 iterations" in status
        assert "PSNR" in (page.text_content("#result-text") or "")  # scored against the example's clean image
        browser.close()


def _shoot(page, tmp_path: Path, name: str) -> None:
    """A screenshot of the page into $DEEPPRIOR_SCREENSHOTS (the docs' pictures: docs/images), else tmp_path."""
    import os

    folder = Path(os.environ.get("DEEPPRIOR_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(folder / f"web-page-{name}.png"), full_page=True)


def test_a_large_photo_is_fitted_in_tiles_with_their_progress_and_a_preview_then_zoomed(server, tmp_path):
    """A 384x384 photo is denoised in tiles by default (the CPU's rule): the page shows the tiles' progress and a
    preview of the restored tiles over the input while it runs, then the result, zoomed and panned."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:384, 0:384] / 384
    base = np.stack([np.sin(9 * xx), np.cos(7 * yy), np.sin(5 * (xx + yy))], axis=2) * 0.35 + 0.5
    photo = tmp_path / "large.png"
    io.save_image(photo, np.round(np.clip(base + rng.normal(0, 0.1, base.shape), 0, 1) * 255).astype(np.uint8))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 1100, "height": 900})
        page.goto(server)
        page.wait_for_selector("#task option", state="attached")
        page.set_input_files("#input-image", str(photo))
        page.wait_for_function("document.getElementById('info-image').textContent.includes('384x384')")
        page.fill("#opt-sigma", "25")
        page.wait_for_function("document.getElementById('estimate').textContent.startsWith('Estimated time: about')",
                               timeout=60_000)
        assert "9 tiles" in (page.text_content("#estimate") or ""), page.text_content("#estimate")
        _shoot(page, tmp_path, "setup")
        page.fill("#num_iter", "6")
        page.click("#restore")
        page.wait_for_function("document.getElementById('status').textContent.startsWith('tiles: ')", timeout=60_000)
        page.wait_for_function("document.getElementById('preview-caption').textContent.includes('of 9 tiles')",
                               timeout=60_000)
        assert page.is_visible("#preview")
        _shoot(page, tmp_path, "tiles")
        status = _wait_done(page, 120_000)
        assert "54 iterations" in status, status  # 9 tiles of 6
        page.wait_for_function("document.getElementById('after').naturalWidth === 384")
        fit = page.evaluate("document.getElementById('after').getBoundingClientRect().width")
        page.select_option("#zoom", "4")
        zoomed = page.evaluate("document.getElementById('after').getBoundingClientRect().width")
        assert round(fit) == 420 and round(zoomed) == 4 * 384, (fit, zoomed)
        assert page.evaluate("document.getElementById('before').getBoundingClientRect().width") == zoomed
        page.locator("#viewport").scroll_into_view_if_needed()
        box = page.locator("#viewport").bounding_box()
        page.mouse.move(box["x"] + 300, box["y"] + 300)
        page.mouse.down()
        page.mouse.move(box["x"] + 100, box["y"] + 150, steps=5)
        page.mouse.up()
        scrolled = page.evaluate("[document.getElementById('viewport').scrollLeft, "
                                 "document.getElementById('viewport').scrollTop]")
        assert scrolled == [200, 150], scrolled  # dragged: the zoomed image moved with the pointer
        _shoot(page, tmp_path, "result")
        browser.close()
