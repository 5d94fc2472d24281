"""The web page's server: FastAPI routes over the task registry, the uploads and the job queue.

Routes: ``/`` the page and ``/static/*`` its script and style (package data: no CDN, no build step);
``/api/form`` the tasks' forms; ``/api/uploads`` an image or mask; ``/api/jobs`` a restoration, then
``/api/jobs/ID`` its progress (each poll is the page's heartbeat), ``/api/jobs/ID/preview.png``,
``/api/jobs/ID/stop`` and ``/api/jobs/ID/files/NAME`` (image, report, curves, animation; preview and input:
8-bit PNGs for the page's before | after).
Every refusal is ``{"error": "one line"}`` with a 4xx status; nothing is fetched from elsewhere.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Body, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from ..errors import DeepPriorError, InputError
from ..restore import Problem
from ..restore.run import plan_restoration
from ..tasks import TASKS, build_problem
from ..units import duration
from .form import form, parse_options, parse_settings
from .jobs import Job, Jobs
from .runner import Payload, run_job
from .uploads import Uploads, preview_png

log = logging.getLogger("deepprior.web")

STATIC = {"app.js": "text/javascript", "draw.js": "text/javascript", "style.css": "text/css"}
MEDIA = {".png": "image/png", ".json": "application/json", ".gif": "image/gif"}
#: The page may load only from this server (a browser refuses anything else: no CDN, no analytics).
CSP = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'"


@dataclass(frozen=True)
class ServerConfig:
    """How ``deepprior serve`` runs.

    Attributes:
        host: the address to bind (local only unless told otherwise).
        port: the port.
        workers: fits at a time; the other jobs wait in a queue.
        max_upload_mb: the largest upload accepted.
        max_pixels: the largest image accepted (from its header, before decoding).
        heartbeat: seconds without a poll after which a job's page counts as closed and the job is cancelled.
        preview_every: seconds between preview images of a running fit.
        device: where fits run (``auto``, ``cpu``, ``cuda``, ``mps``).
        threads: PyTorch CPU threads per fit (None: PyTorch's choice).

    """

    host: str = "127.0.0.1"
    port: int = 7860
    workers: int = 1
    max_upload_mb: float = 32.0
    max_pixels: int = 4_000_000
    heartbeat: float = 30.0
    preview_every: float = 2.0
    device: str = "auto"
    threads: int | None = None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _static(name: str) -> bytes:
    return resources.files("deepprior.web").joinpath("static", name).read_bytes()


def create_app(config: ServerConfig | None = None, work_root: Path | None = None) -> FastAPI:
    """The application: its uploads and results live in ``work_root`` (a fresh temporary folder by default,
    removed at shutdown).
    """
    cfg = config or ServerConfig()
    own_root = work_root is None
    root = Path(tempfile.mkdtemp(prefix="deepprior-web-")) if work_root is None else work_root
    uploads = Uploads(root / "uploads", max_bytes=int(cfg.max_upload_mb * 1e6), max_pixels=cfg.max_pixels)
    jobs = Jobs(lambda job: run_job(job, preview_every=cfg.preview_every), workers=cfg.workers,
                heartbeat=cfg.heartbeat)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()  # every running fit's cancel flag set: Ctrl-C on the server ends the fits too
        if own_root:
            shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(title="deepprior", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.jobs, app.state.uploads, app.state.config = jobs, uploads, cfg

    @app.middleware("http")
    async def limits(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        size = request.headers.get("content-length")
        if request.url.path == "/api/uploads" and size is not None and size.isdigit() and \
                int(size) > uploads.max_bytes + 65536:
            return _error(413, f"the file is {int(size) / 1e6:.1f} MB, over the upload limit of "
                               f"{cfg.max_upload_mb:g} MB")
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.exception_handler(DeepPriorError)
    async def refused(request: Request, exc: DeepPriorError) -> JSONResponse:
        return _error(400, uploads.clean(str(exc)))

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(400, f"bad request: {where} {first.get('msg', '')}".strip())

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request %s failed", request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); see the server's log")

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(_static("index.html").decode("utf-8"))

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            return _error(404, f"no such file: {name}")
        return Response(_static(name), media_type=STATIC[name])

    @app.get("/api/form")
    def task_form() -> dict[str, Any]:
        return {**form(), "limits": {"max_upload_mb": cfg.max_upload_mb, "max_pixels": cfg.max_pixels,
                                     "heartbeat": cfg.heartbeat, "workers": cfg.workers}}

    @app.post("/api/uploads")
    def upload(file: UploadFile = File(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI's way
        data = file.file.read(uploads.max_bytes + 1)
        return uploads.add(file.filename, data).describe()

    @app.get("/api/uploads/{uid}/preview.png")
    def upload_preview(uid: str) -> Response:
        return Response(uploads.get(uid).preview, media_type="image/png")

    def request_of(body: dict[str, Any]) -> tuple[Problem, dict[str, Any], str]:
        """A job's problem and settings from the page's request (what a submit and an estimate share)."""
        task = TASKS.get_task(str(body.get("task")))
        chosen = body.get("images") or {}
        missing = [name for name in task.inputs if not chosen.get(name)]
        if missing:
            raise InputError(f"choose the {missing[0]} image first")
        images = [uploads.get(str(chosen[name])) for name in task.inputs]
        options = parse_options(task, body.get("options") or {}, uploads.path)
        common: dict[str, Any] = {**parse_settings(body.get("settings") or {}), "device": cfg.device,
                                  "threads": cfg.threads, "max_pixels": cfg.max_pixels}
        if body.get("reference"):
            common["reference"] = uploads.path(str(body["reference"]))
        problem = build_problem(task.name, [u.path for u in images], options, None, **common)
        return problem, common, Path(images[-1].name).stem

    @app.post("/api/jobs")
    def submit(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI's way
        problem, common, stem = request_of(body)
        work = Path(tempfile.mkdtemp(prefix="job-", dir=root))
        job = jobs.submit(problem.task, work, Payload(problem, common, stem))
        return status_of(job)

    @app.post("/api/examples/{task_name}")
    def example(task_name: str) -> dict[str, Any]:
        """The task's example (:class:`~deepprior.tasks.base.Example`) as uploads, to try in one click: its
        images, its options (a mask as an upload), and the clean image as the reference.
        """
        task = TASKS.get_task(task_name)
        if task.example is None:
            raise InputError(f"{task.name} has no example")
        ex = task.example()

        def add(name: str, pixels: np.ndarray) -> dict[str, Any]:
            return uploads.add(f"example-{name}.png", preview_png(pixels)).describe()

        images = {name: add(name, px) for name, px in zip(task.inputs, ex.images, strict=True)}
        options: dict[str, Any] = {}
        for o in task.options:
            if o.name in ex.options:
                value = ex.options[o.name]
                options[o.name] = add(o.name, np.asarray(value, np.float32))["id"] if o.kind == "path" else value
        return {"images": images, "options": options, "reference": add("clean", ex.clean)}

    @app.post("/api/estimate")
    def estimate(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI's way
        """How long the job would take on this server, before it is submitted: the plan of the restoration
        (a short fit of the job's network timed here, cached), as the command line prints it.
        """
        problem, common, _ = request_of(body)
        plan = plan_restoration(problem, None, **common)
        low, high = plan.low, plan.high
        text = None
        if low is not None and high is not None:
            span = duration(high) if duration(low) == duration(high) else f"{duration(low)} to {duration(high)}"
            text = f"about {span} on this server" + (f", in {plan.tiles} tiles" if plan.tiles else "")
        return {"text": text, "low_s": low, "high_s": high, "line": plan.line()}

    def find(job_id: str, *, seen: bool = False) -> Job:
        job = jobs.get(job_id, seen=seen)
        if job is None:
            raise _Gone(job_id)
        return job

    def status_of(job: Job) -> dict[str, Any]:
        live = job.live
        left = None
        if job.state == "running" and live.iteration > 0:
            left = round((live.total - live.iteration) * live.seconds / live.iteration, 1)
        return {"id": job.id, "task": job.task, "state": job.state, "position": jobs.position(job),
                "message": job.message, "iteration": live.iteration, "total": live.total, "loss": live.loss,
                "seconds": round(live.seconds, 2), "seconds_left": left, "points": live.points,
                "preview": live.preview_version, "preview_iteration": live.preview_iteration, "tiles": live.tiles,
                "summary": job.summary,
                "files": {name: f"/api/jobs/{job.id}/files/{name}" for name in [*job.files, *job.lazy]}}

    @app.exception_handler(_Gone)
    async def gone(request: Request, exc: _Gone) -> JSONResponse:
        return _error(404, "no such job (the server keeps only the latest ones)")

    @app.get("/api/jobs/{job_id}")
    def status(job_id: str) -> dict[str, Any]:
        return status_of(find(job_id, seen=True))

    @app.get("/api/jobs/{job_id}/preview.png")
    def preview(job_id: str) -> Response:
        shown = find(job_id).live.preview
        if shown is None:
            return _error(404, "no preview yet")
        return Response(shown, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/jobs/{job_id}/stop")
    def stop(job_id: str) -> dict[str, Any]:
        job = find(job_id)
        jobs.stop(job, "stopped from the page")
        return status_of(job)

    @app.get("/api/jobs/{job_id}/files/{name}")
    def download(job_id: str, name: str) -> Response:
        path = find(job_id).file(name)
        if path is None:
            return _error(404, f"no file {name!r} for this job (yet)")
        return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"),
                            filename=path.name if name not in ("preview", "input") else None)

    return app


class _Gone(Exception):
    """A job id the server does not know (never was, or pruned)."""


def serve(config: ServerConfig) -> None:
    """Run the server until Ctrl-C (which cancels the running fits: each returns its current image)."""
    import uvicorn

    app = create_app(config)
    log.info(f"deepprior: open http://{config.host}:{config.port}/ in a browser "
             "(Ctrl-C stops)")
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")
