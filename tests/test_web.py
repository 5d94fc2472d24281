"""The web page's server (``deepprior serve``): its form, uploads, jobs, live progress, stop and limits,
through FastAPI's TestClient with fits of a few iterations on 48x48 images."""

from __future__ import annotations

import io as _bytesio
import struct
import time
import warnings
import zlib

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

with warnings.catch_warnings():  # starlette's TestClient warns that it prefers httpx2 to httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from deepprior import io  # noqa: E402
from deepprior.errors import ConfigError  # noqa: E402
from deepprior.tasks import TASKS  # noqa: E402
from deepprior.web.form import parse_options, parse_settings  # noqa: E402
from deepprior.web.server import ServerConfig, create_app  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def photo(bit_depth: int = 16, side: int = 48) -> bytes:
    """A smooth RGB photo with noise, as PNG bytes (16-bit by default)."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    base = np.stack([np.sin(6 * xx), np.cos(5 * yy), np.sin(4 * (xx + yy))], axis=2) * 0.35 + 0.5
    noisy = np.clip(base + np.random.default_rng(0).normal(0, 0.08, base.shape), 0, 1)
    top = 65535 if bit_depth == 16 else 255
    pixels = np.round(noisy * top).astype(np.uint16 if bit_depth == 16 else np.uint8)
    return png_bytes(pixels)


def png_bytes(pixels: np.ndarray) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.png"
        io.save_image(path, pixels)
        return path.read_bytes()


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A PNG whose header claims a huge image (its pixels are never there)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def client(tmp_path):
    config = ServerConfig(device="cpu", threads=1, preview_every=0.0, max_upload_mb=1.0, max_pixels=100_000,
                          heartbeat=30.0)
    with TestClient(create_app(config, work_root=tmp_path)) as c:
        yield c


def upload(client, data: bytes, name: str = "photo.png") -> dict:
    r = client.post("/api/uploads", files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 200, r.text
    return r.json()


def submit(client, task="denoise", image=None, options=None, **settings):
    body = {"task": task, "images": {"image": image}, "options": options or {}, "settings": settings}
    return client.post("/api/jobs", json=body)


def wait(client, job_id: str, until=("done", "failed", "cancelled"), timeout: float = 60.0,
         check=lambda s: True) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get(f"/api/jobs/{job_id}").json()
        if status["state"] in until and check(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {status['state']} after {timeout} s")


def test_the_form_is_the_task_registry():
    from deepprior.web.form import form

    tasks = {t["name"]: t for t in form()["tasks"]}
    assert list(tasks) == list(TASKS)  # denoise, inpaint, super-resolve, jpeg, flash-no-flash, deblur
    for name, task in TASKS.items():
        assert [o["name"] for o in tasks[name]["options"]] == [o.name for o in task.options]
        assert tasks[name]["inputs"] == list(task.inputs)
        assert set(tasks[name]["presets"]) == set(task.presets)
    scale = next(o for o in tasks["super-resolve"]["options"] if o["name"] == "scale")
    assert scale["choices"] == ["2", "4", "8"] and scale["required"] and scale["flag"] == "--scale"
    assert next(o for o in tasks["inpaint"]["options"] if o["name"] == "mask")["draw"]
    # in people's words: every task has a title, every option a label, and none of them is the flag
    sigma = next(o for o in tasks["denoise"]["options"] if o["name"] == "sigma")
    assert (sigma["label"], tasks["denoise"]["title"]) == ("Noise level (0-255)", "Remove noise")
    for task in tasks.values():
        assert task["title"] and not task["title"].startswith("-")
        assert all(o["label"] and not o["label"].startswith("-") for o in task["options"])


def test_the_pages_values_are_typed_and_checked(tmp_path):
    denoise, deblur = TASKS.get_task("denoise"), TASKS.get_task("deblur")
    assert parse_options(denoise, {"sigma": "25", "noise": "gaussian", "peak": ""}, lambda u: tmp_path) == \
        {"sigma": 25.0, "noise": "gaussian"}
    with pytest.raises(ConfigError, match="--noise 'pink'"):
        parse_options(denoise, {"noise": "pink"}, lambda u: tmp_path)
    with pytest.raises(ConfigError, match="--sigma 'lots' is invalid"):
        parse_options(denoise, {"sigma": "lots"}, lambda u: tmp_path)
    with pytest.raises(ConfigError, match="no file names"):
        parse_options(deblur, {"kernel": "/etc/passwd"}, lambda u: tmp_path)
    with pytest.raises(ConfigError, match="super-resolve needs --scale"):
        parse_options(TASKS.get_task("super-resolve"), {}, lambda u: tmp_path)
    assert parse_settings({"num_iter": "20", "time_limit": "", "preset": "fast"}) == {"num_iter": 20, "preset": "fast"}
    with pytest.raises(ConfigError, match="unknown setting 'output'"):
        parse_settings({"output": "/tmp/x.png"})


def test_page_and_static_files_are_served_with_a_policy_of_no_calls_out(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "draw.js", "style.css"):
        text = client.get(f"/static/{name}").text
        assert "http://" not in text and "https://" not in text, name  # no CDN, no analytics
    assert client.get("/static/../server.py").status_code == 404


def test_bad_uploads_get_one_line_messages(client, tmp_path):
    r = client.post("/api/uploads", files={"file": ("notes.png", b"just some text", "image/png")})
    assert r.status_code == 400
    message = r.json()["error"]
    assert message.startswith("cannot read image notes.png") and str(tmp_path) not in message
    r = client.post("/api/uploads", files={"file": ("bomb.png", bomb_png(), "image/png")})
    assert r.status_code == 400 and "30000x30000" in r.json()["error"] and "megapixels" in r.json()["error"]
    r = client.post("/api/uploads", files={"file": ("big.png", b"\0" * 1_200_000, "image/png")})
    assert r.status_code == 413 and "upload limit of 1 MB" in r.json()["error"]
    r = client.post("/api/jobs", json={"task": "denoise", "images": {}})
    assert r.status_code == 400 and r.json()["error"] == "choose the image image first"
    assert client.get("/api/jobs/nope").status_code == 404


def test_a_wrong_mask_size_is_refused_before_the_fit(client):
    image = upload(client, photo())
    mask = upload(client, png_bytes(np.full((40, 40), 255, np.uint8)), "mask.png")
    r = submit(client, "inpaint", image["id"], {"mask": mask["id"]}, num_iter=5)
    assert r.status_code == 400 and r.json()["error"] == "mask is 40x40 but the image is 48x48"


def test_a_fit_through_the_page_handler_shows_progress_and_returns_a_16_bit_image(client):
    image = upload(client, photo(16))
    assert (image["width"], image["height"], image["bit_depth"]) == (48, 48, 16)
    r = submit(client, "denoise", image["id"], {"sigma": "25"}, num_iter="20", seed="0")
    assert r.status_code == 200, r.text
    status = wait(client, r.json()["id"])
    assert status["state"] == "done", status["message"]
    assert status["summary"]["iterations"] == 20 and status["summary"]["stop_reason"] == "max_iter"
    assert [p["iteration"] for p in status["points"]] == [1, 10, 20]
    assert status["preview"] >= 2 and status["total"] == 20  # a preview after every iteration here
    preview = client.get(f"/api/jobs/{status['id']}/preview.png")
    assert preview.headers["content-type"] == "image/png"
    got = client.get(status["files"]["image"])
    assert 'filename="photo_denoise.png"' in got.headers["content-disposition"]
    assert got.content[24] == 16  # the PNG header's bit depth: 16-bit in, 16-bit out
    from PIL import Image

    assert Image.open(_bytesio.BytesIO(got.content)).size == (48, 48)
    report = client.get(status["files"]["report"]).json()
    assert report["task"] == "denoise" and report["iterations"] == 20 and report["config"]["threads"] == 1
    animation = client.get(status["files"]["animation"])
    assert animation.status_code == 200 and animation.content[:3] == b"GIF"


def test_inpaint_with_a_drawn_mask_keeps_the_known_pixels(client, tmp_path):
    pixels = np.round(np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8)
    image = upload(client, png_bytes(pixels))
    drawn = np.full((48, 48), 255, np.uint8)
    drawn[20:28, 10:40] = 0  # a brush stroke: missing pixels
    mask = upload(client, png_bytes(drawn), "mask.png")
    r = submit(client, "inpaint", image["id"], {"mask": mask["id"], "keep_known": True}, num_iter=3)
    status = wait(client, r.json()["id"])
    assert status["state"] == "done", status["message"]
    out = tmp_path / "out.png"
    out.write_bytes(client.get(status["files"]["image"]).content)
    got = io.load_image(out)
    known = drawn == 255
    assert np.array_equal(np.round(got.pixels[known] * 255), pixels[known].astype(np.float32))


def test_stop_returns_the_current_image_and_the_queue_shows_positions(client):
    image = upload(client, photo(8))
    first = submit(client, "denoise", image["id"], {"sigma": "25"}, num_iter=100000).json()
    second = submit(client, "denoise", image["id"], {"sigma": "25"}, num_iter=100000).json()
    wait(client, first["id"], until=("running",), check=lambda s: s["iteration"] >= 2)
    waiting = client.get(f"/api/jobs/{second['id']}").json()
    assert waiting["state"] == "queued" and waiting["position"] == 1
    stopped = client.post(f"/api/jobs/{second['id']}/stop").json()  # a waiting job is dropped
    assert stopped["state"] == "cancelled" and "before it started" in stopped["message"]
    client.post(f"/api/jobs/{first['id']}/stop")
    status = wait(client, first["id"])
    assert status["state"] == "done" and status["summary"]["stop_reason"] == "interrupted"
    assert 2 <= status["summary"]["iterations"] < 100000
    assert client.get(status["files"]["image"]).status_code == 200


def test_a_job_whose_page_stopped_polling_is_cancelled(tmp_path):
    config = ServerConfig(device="cpu", threads=1, heartbeat=1.0)
    with TestClient(create_app(config, work_root=tmp_path)) as c:
        image = upload(c, photo(8))
        job = submit(c, "denoise", image["id"], {"sigma": "25"}, num_iter=100000).json()
        app_jobs = c.app.state.jobs  # type: ignore[attr-defined]
        end = time.monotonic() + 30
        while not app_jobs.get(job["id"]).final and time.monotonic() < end:
            time.sleep(0.2)  # no poll: the page is closed
        done = app_jobs.get(job["id"])
        assert done.final and "the page was closed" in done.message
        assert done.state == "cancelled" or done.summary["stop_reason"] == "interrupted"


def test_serve_binds_locally_by_default_and_refuses_bad_values_in_one_line(runner, monkeypatch):
    from deepprior.cli import cli
    from deepprior.web import server

    seen = []
    monkeypatch.setattr(server, "serve", seen.append)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert seen == [ServerConfig(host="127.0.0.1", port=7860, workers=1)]
    runner.invoke(cli, ["serve", "--workers", "2", "--port", "8000", "--max-pixels", "1000"])
    assert seen[-1].workers == 2 and seen[-1].port == 8000 and seen[-1].max_pixels == 1000
    for argv in (["--port", "-1"], ["--workers", "0"], ["--max-upload-mb", "nan"], ["--heartbeat", "abc"]):
        result = runner.invoke(cli, ["serve", *argv])
        assert result.exit_code == 2, argv
        assert "Traceback" not in result.output and "Error: Invalid value" in result.output, argv


def test_the_time_is_estimated_before_the_job_is_submitted(client):
    image = upload(client, photo())
    r = client.post("/api/estimate", json={"task": "denoise", "images": {"image": image["id"]},
                                           "options": {"sigma": "25"}, "settings": {"num_iter": "300"}})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["text"].startswith("about ") and e["text"].endswith(" on this server")
    assert 0 < e["low_s"] <= e["high_s"]
    assert e["line"].startswith("plan: denoise 48x48, whole, at most 300 iterations")
    assert client.get("/api/jobs/nope").status_code == 404  # nothing was submitted by the estimate
    r = client.post("/api/estimate", json={"task": "denoise", "images": {}})
    assert r.status_code == 400 and r.json()["error"] == "choose the image image first"


def test_every_tasks_example_is_offered_as_uploads(client):
    for name, task in TASKS.items():
        r = client.post(f"/api/examples/{name}")
        assert r.status_code == 200, (name, r.text)
        ex = r.json()
        assert list(ex["images"]) == list(task.inputs) and ex["reference"]["id"]
        assert set(ex["options"]) == set(task.example().options)  # type: ignore[misc]
    assert client.post("/api/examples/nope").status_code == 400


def test_a_tiled_fit_shows_each_tiles_progress_and_pastes_the_restored_tiles_into_the_preview():
    from deepprior.web.jobs import Live
    from deepprior.web.runner import LiveProgress

    live = Live()
    start = np.full((8, 10, 3), 0.25, np.float32)
    watcher = LiveProgress(live, preview_every=3600, start=start)
    watcher.on_tiles(4, 100, (16, 20))  # a x2 job: the input enlarged under the tiles
    assert live.total == 400 and live.tiles == {"count": 4, "done": 0, "running": []}
    watcher.on_tile_progress(0, 30)
    watcher.on_tile_progress(1, 10)
    assert live.iteration == 40 and live.tiles["running"] == [(0, 30), (1, 10)]
    watcher.on_tile_done(0, [0, 0, 8, 10], np.ones((8, 10, 3), np.float32), {"stop_reason": "max_iter"})
    assert live.tiles == {"count": 4, "done": 1, "running": [(1, 10)]} and live.iteration == 110
    assert live.preview_version == 1  # the first tile gives a preview at once; then every preview_every seconds
    watcher.on_tile_done(1, [0, 10, 8, 20], np.ones((8, 10, 3), np.float32), {})
    assert live.preview_version == 1
    for index, region in ((2, [8, 0, 16, 10]), (3, [8, 10, 16, 20])):
        watcher.on_tile_done(index, region, np.zeros((8, 10, 3), np.float32), {})
    assert live.preview_version == 2 and live.iteration == 400  # the last tile always shows
    from PIL import Image

    shown = np.asarray(Image.open(__import__("io").BytesIO(live.preview)))
    assert shown.shape == (16, 20, 3) and shown[0, 0, 0] == 255 and shown[15, 19, 0] == 0
