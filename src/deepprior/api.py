"""The Python API: one function per task, mirroring the command line one to one.

Every task runs the same way: read the image, resolve the preset, build the operator and the network,
pad the image to the network's size (never crop it), fit, crop back, and score against a reference
when one is given. Each function returns a :class:`Restoration`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import io
from ._version import __version__
from .errors import ConfigError, InputError
from .fit.config import FitConfig
from .fit.loop import Callback, FitResult, Fitter, StepState
from .fit.stopping import make_stop_rule
from .io import ImageData, ImageSource
from .metrics import psnr as psnr_metric
from .metrics import ssim as ssim_metric

MIN_SIDE = 8


@dataclass
class Restoration:
    """The result of a restoration.

    Attributes:
        image: the restored image (alpha carried through, at the input's bit depth), ready to save.
        fit: the fitting loop's result (history, iterations, stop point, ...).
        task: ``denoise``, ``inpaint`` or ``super-resolve``.
        preset: the preset's name.
        net: the network's name.
        device: the device it ran on.
        precision: ``fp32``, ``bf16`` or ``fp16``.
        threads: PyTorch's intra-op threads.
        seed: the seed.
        psnr: PSNR against the reference of the image as saved (8/16-bit), or None.
        ssim: SSIM likewise, or None.
        input_psnr: PSNR of the corrupted input against the reference (denoising and inpainting), or None.
        config: every resolved setting.

    """

    image: ImageData
    fit: FitResult
    task: str
    preset: str
    net: str
    device: str
    precision: str
    threads: int
    seed: int
    psnr: float | None = None
    ssim: float | None = None
    input_psnr: float | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The report (``--report``): see the README for the schema."""
        return {
            "task": self.task,
            "preset": self.preset,
            "net": self.net,
            "iterations": self.fit.iterations,
            "stopped_at": self.fit.stopped_at,
            "stop_reason": self.fit.stop_reason,
            "seconds": round(self.fit.seconds, 3),
            "device": self.device,
            "precision": self.precision,
            "threads": self.threads,
            "seed": self.seed,
            "psnr": None if self.psnr is None else round(self.psnr, 4),
            "ssim": None if self.ssim is None else round(self.ssim, 5),
            "input_psnr": None if self.input_psnr is None else round(self.input_psnr, 4),
            "guard_restores": self.fit.guard_restores,
            "config": self.config,
            "version": __version__,
            "history": self.fit.history,
        }

    def save(self, path: str | Path) -> Path:
        """Write the image atomically."""
        return io.save_image(path, self.image)


class ProgressBar(Callback):
    """A tqdm progress bar: iteration, loss, PSNR when a reference is known, and time left."""

    def __init__(self, total: int, description: str = "") -> None:
        self.total = total
        self.description = description
        self.bar: Any = None

    def on_start(self, fitter: Fitter) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, desc=self.description, unit="it", dynamic_ncols=True, leave=True)

    def on_step(self, state: StepState) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if state.iteration % 10 == 0 or state.iteration == 1:
            post = {"loss": f"{state.loss:.2e}"}
            if state.fitter.reference is not None:
                value = state.fitter.psnr_reference(state.average)
                post["psnr"] = f"{value:.2f}" if value is not None else "-"
            self.bar.set_postfix(post, refresh=False)

    def on_end(self, result: FitResult) -> None:
        if self.bar is not None:
            self.bar.close()


class RunEstimate(Callback):
    """Says, once the first iterations are timed, how long the whole fit may take (to stderr).

    The first ``warmup`` iterations are not counted (allocation, thread start-up); the estimate is the
    mean time of the next ``probe`` iterations times the iterations left. Runs shorter than ``min_seconds``
    in total say nothing.
    """

    def __init__(self, total: int, warmup: int = 2, probe: int = 5, min_seconds: float = 60.0,
                 write: Callable[[str], None] | None = None) -> None:
        self.total, self.warmup, self.probe, self.min_seconds = total, warmup, probe, min_seconds
        self.write = write
        self.message: str | None = None
        self._t0 = 0.0

    def on_step(self, state: StepState) -> None:
        import time

        if state.iteration == self.warmup:
            self._t0 = time.perf_counter()
        elif state.iteration == self.warmup + self.probe:
            per = (time.perf_counter() - self._t0) / self.probe
            total = per * self.total
            if total < self.min_seconds:
                return
            rule = state.fitter.stop.name
            tail = "" if rule == "none" else f" (the {rule} rule usually stops sooner)"
            self.message = (f"about {per:.2f} s per iteration here: up to {self.total} iterations take about "
                            f"{_duration(total)}{tail}; --time-limit caps it")
            if self.write is not None:
                self.write(self.message)
            else:
                from tqdm.auto import tqdm

                tqdm.write(self.message)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Snapshots(Callback):
    """Saves the averaged image at the given iterations as ``DIR/STEM_000100.png``."""

    def __init__(self, iterations: Sequence[int], folder: Path, stem: str, finish: Callable[[torch.Tensor], ImageData]):
        self.iterations = set(iterations)
        self.folder = folder
        self.stem = stem
        self.finish = finish
        self.saved: list[Path] = []

    def on_start(self, fitter: Fitter) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def on_step(self, state: StepState) -> None:
        if state.iteration in self.iterations:
            image = self.finish(state.fitter.crop(state.average).clamp(0, 1).cpu())
            path = self.folder / f"{self.stem}_{state.iteration:06d}.png"
            io.save_image(path, image)
            self.saved.append(path)


class FrameRecorder(Callback):
    """Keeps the averaged image (cropped, on the CPU) at the given iterations, for an animation."""

    def __init__(self, iterations: Sequence[int]) -> None:
        self.iterations = set(iterations)
        self.frames: list[tuple[int, np.ndarray]] = []

    def on_step(self, state: StepState) -> None:
        if state.iteration in self.iterations:
            image = state.fitter.crop(state.average).clamp(0, 1).cpu()
            self.frames.append((state.iteration, io.from_tensor(image)))


def default_frames(num_iter: int, count: int = 50) -> list[int]:
    """Iterations for an animation when none are given: about ``count`` evenly spaced, the first included."""
    step = max(1, num_iter // count)
    return sorted({1, *range(step, num_iter + 1, step)} & set(range(1, num_iter + 1)))


def _check_size(img: ImageData, what: str = "image") -> None:
    if min(img.height, img.width) < MIN_SIDE:
        raise InputError(
            f"{what} is {img.size_text}; deepprior needs at least {MIN_SIDE}x{MIN_SIDE} pixels"
        )


def _scales_for(side: int, wanted: int) -> int:
    """How many levels fit a side: the deepest feature map keeps at least 2 pixels."""
    return max(1, min(wanted, int(math.floor(math.log2(side))) - 1))


def _pad_amount(side: int, multiple: int) -> int:
    return (-side) % multiple


def _pad(t: torch.Tensor, bottom: int, right: int) -> torch.Tensor:
    if not bottom and not right:
        return t
    h, w = t.shape[-2:]
    mode = "reflect" if bottom < h and right < w else "replicate"
    return torch.nn.functional.pad(t, (0, right, 0, bottom), mode=mode)


def _to_image(tensor: torch.Tensor, like: ImageData, alpha: np.ndarray | None) -> ImageData:
    pixels = io.quantize(io.from_tensor(tensor), like.bit_depth)
    return ImageData(pixels=pixels, alpha=alpha, bit_depth=like.bit_depth, path=None)


def _load_reference(reference: ImageSource | None, shape: tuple[int, int], channels: int) -> np.ndarray | None:
    if reference is None:
        return None
    ref = io.load_image(reference)
    if (ref.height, ref.width) != shape:
        raise InputError(f"reference is {ref.size_text} but the restored image is {shape[1]}x{shape[0]}")
    px = ref.pixels
    if px.shape[2] != channels:
        px = px.mean(axis=2, keepdims=True) if channels == 1 else np.repeat(px.mean(axis=2, keepdims=True), 3, 2)
    return px


def _snapshot_list(snapshots: Sequence[int] | str | None) -> list[int]:
    if snapshots is None or snapshots == "":
        return []
    if isinstance(snapshots, str):
        try:
            values = [int(s) for s in snapshots.replace(" ", "").split(",") if s]
        except ValueError:
            raise ConfigError(f"snapshots {snapshots!r} is not a comma-separated list of iterations") from None
    else:
        values = [int(s) for s in snapshots]
    if any(v < 1 for v in values):
        raise ConfigError(f"snapshot iterations must be >= 1, got {values}")
    return sorted(set(values))


@dataclass
class _Job:
    """Everything the shared restoration path needs from a task."""

    task: str
    image: ImageData
    operator: torch.nn.Module
    y: torch.Tensor  # the measurement, unpadded
    weights: torch.Tensor | None  # measured-pixel mask over y, unpadded
    factor: int  # output size / measurement size
    out_alpha: np.ndarray | None
    sigma: float | None = None
    scale: int | None = None
    input_for_score: np.ndarray | None = None  # the corrupted input, scored against the reference
    loss: Any = None  # the data term (deepprior.fit.losses.DataTerm); None: mean squared error
    noise: dict[str, Any] | None = None  # the noise model and level the data term was chosen for
    net_input: torch.Tensor | None = None  # a fixed network input at the output's size (flash/no-flash)
    auto_stop: str | None = None  # what ``--stop auto`` means for this job, when not the task's rule
    keep_known: bool = False  # return the measured pixels as measured (Fitter's keep_known)


@dataclass
class _Settings:
    """Everything a task's options resolve to (preset, network, fit settings, device)."""

    preset: str
    net: str
    entry: Any
    net_config: Any
    fit: FitConfig
    precision: str
    device: torch.device
    threads: int


def _resolve(
    job: _Job, *, preset: str | None, net: str | None, num_iter: int | None, lr: float | None, seed: int,
    device: str, precision: str, threads: int | None, time_limit: float | None,
) -> _Settings:
    from .device import resolve_device, resolve_precision, set_threads
    from .nets import get_entry
    from .presets import TaskInfo, resolve_preset

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed {seed!r} is invalid; expected a whole number >= 0")
    torch_device = resolve_device(device)
    preset_name = preset or ("fast" if torch_device.type == "cpu" else "paper")
    chosen = resolve_preset(preset_name, TaskInfo(task=job.task, sigma=job.sigma, scale=job.scale))
    net_name = net or chosen.net
    entry = get_entry(net_name)
    net_config = chosen.net_config if net is None or net == chosen.net else entry.config
    resolved_precision = resolve_precision(precision, chosen.precision, torch_device)
    n_threads = set_threads(threads)
    fit_cfg: FitConfig = chosen.fit.updated(
        num_iter=num_iter, lr=lr, precision=resolved_precision, time_limit=time_limit
    )
    if net_name != chosen.net:  # another network than the preset's: its registry entry's own settings
        net_config = dataclasses.replace(net_config, **entry.task_config.get(job.task, {}))
        fit_cfg = fit_cfg.updated(**{"input_depth": entry.input_depth, **entry.fit_overrides,
                                     **entry.task_fit.get(job.task, {})})
        if job.task in entry.upscaled_input and job.net_input is None:  # sets the job's input, like flash
            up = torch.nn.functional.interpolate(job.y, scale_factor=job.factor, mode="bicubic", align_corners=False)
            job.net_input = up.clamp(0, 1)
    if job.net_input is not None:
        if net_name == "decoder":
            raise ConfigError(f"network {net_name!r} takes its own coarse input; it cannot take an image as input")
        fit_cfg = fit_cfg.updated(input_depth=int(job.net_input.shape[1]), input_type="noise")
    if torch_device.type != "cpu" and fit_cfg.channels_last and resolved_precision == "fp32":
        fit_cfg = fit_cfg.updated(channels_last=False)
    return _Settings(preset_name, net_name, entry, net_config, fit_cfg, resolved_precision, torch_device, n_threads)


@dataclass
class _Prepared:
    """A job padded to its network: what the Fitter needs."""

    y: torch.Tensor
    weights: torch.Tensor | None
    operator: torch.nn.Module
    net_config: Any
    region: tuple[int, int, int, int]
    pad: tuple[int, int]
    net_input: torch.Tensor | None = None


def _prepare(job: _Job, net_config: Any) -> _Prepared:
    """Pad the output side to a multiple of 2^scales, in whole measurement pixels; fewer levels if small."""
    h, w = job.y.shape[-2:]
    out_h, out_w = h * job.factor, w * job.factor
    scales = _scales_for(min(out_h, out_w), net_config.scales)
    if scales < net_config.scales:
        net_config = net_config.with_scales(scales)
    multiple = max(1, (2**scales) // job.factor)
    pad_b, pad_r = _pad_amount(h, multiple), _pad_amount(w, multiple)
    y = _pad(job.y, pad_b, pad_r)
    weights = None
    if pad_b or pad_r:
        weights = torch.zeros((1, 1, h + pad_b, w + pad_r))
        weights[..., :h, :w] = 1.0
    if job.weights is not None:
        base = _pad(job.weights, pad_b, pad_r) if (pad_b or pad_r) else job.weights
        weights = base if weights is None else base * weights
    operator = job.operator.padded(pad_b * job.factor, pad_r * job.factor)  # type: ignore[operator]
    net_input = None if job.net_input is None else _pad(job.net_input, pad_b * job.factor, pad_r * job.factor)
    return _Prepared(y, weights, operator, net_config, (0, 0, out_h, out_w), (pad_b * job.factor, pad_r * job.factor),
                     net_input)


def _fit(
    job: _Job, st: _Settings, *, seed: int, stop: str, callbacks: Sequence[Callback],
    reference: torch.Tensor | None,
) -> tuple[FitResult, _Prepared, Any]:
    prep = _prepare(job, st.net_config)
    torch.manual_seed(seed)
    network = st.entry.builder(st.fit.input_depth, job.image.channels, prep.net_config)
    if stop == "auto" and st.entry.auto_stop is not None:
        stop = st.entry.auto_stop
    elif stop == "auto" and job.loss is not None and job.loss.auto_stop is not None:
        stop = job.loss.auto_stop
    elif stop == "auto" and job.auto_stop is not None:
        stop = job.auto_stop
    rule = make_stop_rule(stop, sigma=job.sigma, num_iter=st.fit.num_iter, task=job.task)
    fitter = Fitter(
        network, prep.operator, prep.y, config=st.fit, weights=prep.weights, region=prep.region, stop=rule,
        callbacks=callbacks, reference=reference, device=st.device, seed=seed, loss=job.loss,
        net_input=prep.net_input, keep_known=job.keep_known,
    )
    return fitter.run(), prep, rule


def _run(
    job: _Job,
    *,
    preset: str | None,
    net: str | None,
    num_iter: int | None,
    lr: float | None,
    seed: int,
    device: str,
    precision: str,
    threads: int | None,
    stop: str,
    reference: ImageSource | None,
    snapshots: Sequence[int] | str | None,
    snapshot_dir: str | Path | None,
    snapshot_stem: str,
    quiet: bool,
    time_limit: float | None,
    callbacks: Sequence[Callback],
    curves: str | Path | None = None,
    animation: str | Path | None = None,
    compare: str | Path | None = None,
    tiling: TileOptions | None = None,
) -> Restoration:
    st = _resolve(job, preset=preset, net=net, num_iter=num_iter, lr=lr, seed=seed, device=device,
                  precision=precision, threads=threads, time_limit=time_limit)
    make_stop_rule(stop)  # an unknown rule fails before any work
    h, w = job.y.shape[-2:]
    out_h, out_w = h * job.factor, w * job.factor
    ref_px = _load_reference(reference, (out_h, out_w), job.image.channels)
    ref_tensor = None if ref_px is None else io.to_tensor(ref_px)
    if curves is not None or compare is not None:
        from .viz import require_viz

        require_viz()  # fail before the fit, not after it
    if animation is not None and Path(animation).suffix.lower() not in (".gif", ".mp4"):
        raise ConfigError(f"animation {animation}: expected a .gif or .mp4 file")

    def finish(t: torch.Tensor) -> ImageData:
        return _to_image(t, job.image, job.out_alpha)

    tile_size = _tile_size(job, st, tiling)
    if tile_size is not None and job.net_input is not None:
        raise ConfigError(f"{job.task} cannot be tiled (its network input is a whole image); "
                          "give a smaller image or a larger --max-memory")
    recorder = None
    tiles_report: list[dict[str, Any]] = []
    if tile_size is None:
        cbs: list[Callback] = list(callbacks)
        if not quiet:
            cbs.insert(0, ProgressBar(st.fit.num_iter, description=job.task))
            cbs.insert(1, RunEstimate(st.fit.num_iter))
        snap_iters = _snapshot_list(snapshots)
        if animation is not None:
            recorder = FrameRecorder(snap_iters or default_frames(st.fit.num_iter))
            cbs.append(recorder)
        if snap_iters:
            folder = Path(snapshot_dir) if snapshot_dir is not None else Path(f"{snapshot_stem}_snapshots")
            cbs.append(Snapshots(snap_iters, folder, snapshot_stem, finish))
        result, prep, _ = _fit(job, st, seed=seed, stop=stop, callbacks=cbs, reference=ref_tensor)
        net_config, padding = prep.net_config, {"bottom": prep.pad[0], "right": prep.pad[1]}
    else:
        from .tiled import run_tiled

        if animation is not None or snapshots:
            raise ConfigError("--animation and --snapshots are not available with tiling")
        result, tiles_report = run_tiled(
            job, st, tile=tile_size, overlap=(tiling.overlap if tiling else 16), seed=seed, stop=stop,
            work_dir=tiling.work_dir if tiling else None, resume=bool(tiling and tiling.resume),
            quiet=quiet, fit=_fit,
        )
        net_config, padding = st.net_config, {"bottom": 0, "right": 0}
    restored = finish(result.image)
    psnr_value = ssim_value = input_psnr = None
    if ref_px is not None:
        psnr_value = psnr_metric(restored.pixels, ref_px)
        ssim_value = ssim_metric(restored.pixels, ref_px) if min(out_h, out_w) >= 7 else None
        if job.input_for_score is not None:
            input_psnr = psnr_metric(job.input_for_score, ref_px)
    if curves is not None:
        from .viz import plot_curves

        plot_curves(result.history, curves, title=f"{job.task} ({st.preset}, {st.net})",
                    stopped_at=result.stopped_at, stop_reason=result.stop_reason)
    if recorder is not None and animation is not None:
        from .viz import write_animation

        frames = recorder.frames
        if result.stopped_at and (not frames or frames[-1][0] != result.stopped_at):
            frames = [*frames, (result.stopped_at, restored.pixels)]
        write_animation(frames, animation)
    if compare is not None:
        from .viz import plot_compare

        shown = job.input_for_score if job.input_for_score is not None else _upscale_for_display(job)
        panels = [("corrupted input", shown), ("restored", restored.pixels)]
        if ref_px is not None:
            panels.append(("reference", ref_px))
        plot_compare(panels, compare, reference=ref_px, restored=restored.pixels)
    config = {
        "task": job.task,
        "preset": st.preset,
        "net": st.net,
        "net_config": _jsonable(net_config),
        "fit": st.fit.to_dict(),
        "stop": {"requested": stop, **result.stop_rule},
        "operator": repr(job.operator),
        "keep_known": job.keep_known,
        "image": {"width": job.image.width, "height": job.image.height, "channels": job.image.channels,
                  "bit_depth": job.image.bit_depth, "alpha": job.image.alpha is not None},
        "output": {"width": out_w, "height": out_h},
        "padding": padding,
        "tiling": None if tile_size is None else {"tile": tile_size, "overlap": tiling.overlap if tiling else 16,
                                                  "tiles": tiles_report},
        "sigma": job.sigma,
        "noise": job.noise,
        "loss": None if job.loss is None else job.loss.describe(),
        "scale": job.scale,
        "device": str(st.device),
        "threads": st.threads,
        "seed": seed,
    }
    return Restoration(
        image=restored, fit=result, task=job.task, preset=st.preset, net=st.net, device=str(st.device),
        precision=st.precision, threads=st.threads, seed=seed, psnr=psnr_value, ssim=ssim_value,
        input_psnr=input_psnr, config=config,
    )


@dataclass(frozen=True)
class TileOptions:
    """Tiling settings (the CLI's ``--tile``, ``--overlap``, ``--max-memory``, ``--work-dir``, ``--resume``).

    Attributes:
        tile: core size of a tile in output pixels; None tiles only when the image would not fit
            ``max_memory``.
        overlap: pixels each tile reaches into its neighbours (cross-fade over twice that).
        max_memory: memory budget (``4GB``-style or bytes); default half the machine's memory.
        work_dir: folder where finished tiles are saved as they complete.
        resume: reuse the finished tiles in ``work_dir``.

    """

    tile: int | None = None
    overlap: int = 16
    max_memory: str | int | None = None
    work_dir: str | Path | None = None
    resume: bool = False


def _tile_size(job: _Job, st: _Settings, tiling: TileOptions | None) -> int | None:
    from .tiled import auto_tile

    if tiling is not None and tiling.tile is not None:
        return tiling.tile
    h, w = job.y.shape[-2:]
    return auto_tile(h * job.factor, w * job.factor, job.image.channels, st,
                     None if tiling is None else tiling.max_memory)


def _upscale_for_display(job: _Job) -> np.ndarray:
    """The measurement at the output's size (nearest), to show beside a super-resolved image."""
    lr = io.from_tensor(job.y)
    return np.repeat(np.repeat(lr, job.factor, axis=0), job.factor, axis=1)


def _jsonable(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in asdict(obj).items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _stem(image: ImageSource) -> str:
    if isinstance(image, (str, Path)):
        return Path(image).stem
    if isinstance(image, ImageData) and image.path is not None:
        return image.path.stem
    return "image"


_COMMON_DOC = """
        preset: named settings (``fast``, ``paper``, ...; default ``fast`` on a CPU, ``paper`` elsewhere).
        net: network from the registry (default: the preset's).
        num_iter: iteration cap (CLI ``--iters``; default: the preset's).
        lr: Adam's learning rate (default: the preset's).
        seed: seeds the network's weights, its input and the perturbations.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        precision: ``auto``, ``fp32``, ``bf16`` or ``fp16``.
        threads: PyTorch threads (default: PyTorch's choice).
        stop: stopping rule: ``auto`` (the measured best for the task; ``min-loss`` with the Deep Decoder),
            ``none`` (run exactly ``num_iter``), ``wmv``, ``mns-static``, ``mns-adaptive`` or ``min-loss``
            (run to the cap, return the output of lowest loss).
        reference: the clean image, to report PSNR/SSIM (never used by the fit).
        snapshots: iterations at which to save the averaged image.
        snapshot_dir: where snapshots go (default ``STEM_snapshots``).
        quiet: no progress bar.
        time_limit: seconds after which the fit stops and returns its current image.
        callbacks: extra :class:`~deepprior.fit.loop.Callback` hooks.
        curves: write loss/PSNR curves here (PNG; needs the ``viz`` extra).
        animation: write an animation of the fit here (``.gif``, or ``.mp4`` with imageio-ffmpeg), from the
            ``snapshots`` iterations or about 50 evenly spaced ones.
        compare: write a figure here: corrupted input | restored | reference | difference (``viz`` extra).
        tile: restore in tiles of this core size (output pixels); default: only when the image would not
            fit ``max_memory``.
        overlap: pixels each tile reaches into its neighbours; they are cross-faded over twice that.
        max_memory: memory budget such as ``4GB`` (default: half the machine's memory).
        work_dir: save each finished tile here as it completes.
        resume: reuse the finished tiles in ``work_dir`` (same job, same seed: the same image).
"""


def denoise(
    image: ImageSource,
    *,
    sigma: float | None = None,
    noise: str | None = None,
    peak: float | None = None,
    amount: float | None = None,
    loss: str | None = None,
    keep_known: bool | None = None,
    preset: str | None = None,
    net: str | None = None,
    num_iter: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    stop: str = "auto",
    reference: ImageSource | None = None,
    snapshots: Sequence[int] | str | None = None,
    snapshot_dir: str | Path | None = None,
    quiet: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    curves: str | Path | None = None,
    animation: str | Path | None = None,
    compare: str | Path | None = None,
    tile: int | None = None,
    overlap: int = 16,
    max_memory: str | int | None = None,
    work_dir: str | Path | None = None,
    resume: bool = False,
) -> Restoration:
    """Denoise an image with a Deep Image Prior.

    The noise model picks the data term and the stopping rule's expected residual
    (:mod:`deepprior.fit.losses`): ``gaussian`` -> MSE, ``poisson`` -> Poisson likelihood, ``salt-pepper``
    -> L1, ``speckle`` -> intensity-weighted MSE. ``unknown`` (blind, the default) looks for isolated
    black/white impulses (then L1) and otherwise fits MSE with the image's own noise-level function
    ``Var[y | x] = a + b x + c x^2`` as the stopping rule's expectation. A level that is not given is
    estimated from the image (Gaussian sigma when stopping, Poisson peak, impulse fraction, speckle sigma).

    Args:
        image: the noisy image (path, PIL image, array or :class:`~deepprior.io.ImageData`).
        sigma: the Gaussian noise level on the 0-255 scale, when known (picks the paper's input noise); with
            ``noise="speckle"``, the speckle's standard deviation on the [0, 1] scale.
        noise: ``gaussian``, ``poisson``, ``salt-pepper``, ``speckle`` or ``unknown``; default: inferred from
            the level given (``sigma`` -> gaussian, ``peak`` -> poisson, ``amount`` -> salt-pepper), else
            ``unknown``.
        peak: Poisson peak (photons at intensity 1), when known.
        amount: salt-and-pepper fraction of pixels, when known.
        loss: override the data term (``mse``, ``l1``, ``poisson``, ``speckle``).
        keep_known: return the pixels the noise left untouched as given and the network's image only in
            the others: with salt-and-pepper (named, or identified by the blind setting) the pixels not
            pure black or white. Default: on when the noise model has such pixels; asking for it with a
            noise that touches every pixel is an error.

    """
    img = io.load_image(image)
    _check_size(img)
    y = io.to_tensor(img.pixels)
    noise_info, data_term, gauss_sigma = _noise_setup(y, noise=noise, sigma=sigma, peak=peak, amount=amount,
                                                      loss=loss)
    from .physics import Identity

    exact = data_term is not None and data_term.exact(y) is not None
    if keep_known and not exact:
        found = "the blind setting found no impulses" if noise_info["model"] == "unknown" else (
            f"{noise_info['model']} noise touches every pixel")
        raise ConfigError(f"keep_known needs a noise that leaves some pixels untouched (salt-and-pepper); {found}")
    job = _Job("denoise", img, Identity(), y, None, 1, img.alpha, sigma=gauss_sigma, input_for_score=img.pixels,
               loss=data_term, noise=noise_info, keep_known=exact if keep_known is None else keep_known)
    return _run(
        job, preset=preset, net=net, num_iter=num_iter, lr=lr, seed=seed, device=device, precision=precision,
        threads=threads, stop=stop, reference=reference, snapshots=snapshots, snapshot_dir=snapshot_dir,
        snapshot_stem=_stem(image), quiet=quiet, time_limit=time_limit, callbacks=callbacks,
        curves=curves, animation=animation, compare=compare,
        tiling=TileOptions(tile=tile, overlap=overlap, max_memory=max_memory, work_dir=work_dir, resume=resume),
    )


NOISE_CHOICES = ("gaussian", "poisson", "salt-pepper", "speckle", "unknown")


def _noise_setup(
    y: torch.Tensor, *, noise: str | None, sigma: float | None, peak: float | None, amount: float | None,
    loss: str | None,
) -> tuple[dict[str, Any], Any, float | None]:
    """Resolve ``--noise`` and its level into (report entry, data term, Gaussian sigma on 0-255 or None)."""
    from .fit import losses as L

    for name, value in (("sigma", sigma), ("peak", peak), ("amount", amount)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ConfigError(f"{name} {value} is invalid; expected a number >= 0")
    if peak is not None and peak <= 0:
        raise ConfigError(f"Poisson peak {peak} must be positive")
    if amount is not None and amount > 1:
        raise ConfigError(f"salt-and-pepper amount {amount} is out of range; expected 0 <= A <= 1")
    if noise is None:
        given = [n for n, v in (("gaussian", sigma), ("poisson", peak), ("salt-pepper", amount)) if v is not None]
        if len(given) > 1:
            raise ConfigError("give one noise level (sigma, peak or amount), or name the noise with --noise")
        noise = given[0] if given else "unknown"
    if noise not in NOISE_CHOICES:
        raise ConfigError(f"unknown noise {noise!r}; expected one of {', '.join(NOISE_CHOICES)}")
    wrong = {"gaussian": ("peak", "amount"), "poisson": ("sigma", "amount"), "salt-pepper": ("sigma", "peak"),
             "speckle": ("peak", "amount"), "unknown": ("sigma", "peak", "amount")}[noise]
    extra = [n for n in wrong if {"sigma": sigma, "peak": peak, "amount": amount}[n] is not None]
    if extra:
        raise ConfigError(f"--{extra[0]} does not apply to --noise {noise}")
    info: dict[str, Any] = {"model": noise}
    level: dict[str, float | None] = {}
    gauss_sigma = None
    if noise == "gaussian":
        gauss_sigma = sigma
        level["sigma"] = None if sigma is None else sigma / 255.0
        info["sigma"] = sigma
    elif noise == "poisson":
        value = peak if peak is not None else L.estimate_poisson_peak(y)
        level["peak"], info["peak"], info["estimated"] = value, round(value, 3), peak is None
    elif noise == "salt-pepper":
        value = amount if amount is not None else L.estimate_impulse_amount(y)
        level["amount"], info["amount"], info["estimated"] = value, round(value, 5), amount is None
    elif noise == "speckle":
        value = sigma if sigma is not None else L.estimate_speckle_sigma(y)
        level["speckle"], info["sigma"], info["estimated"] = value, round(value, 5), sigma is None
    if noise == "unknown" and loss is None:
        return info, _blind_term(y, info), None
    name = loss if loss is not None else L.NOISE_LOSS[noise]
    if loss is not None and loss != L.NOISE_LOSS[noise]:
        level = {}  # an overridden data term does not know this noise's level; the stop rule estimates it
    data_term = L.make_loss(name, skip_impulses=noise == "salt-pepper", **level)
    return info, data_term, gauss_sigma


def _blind_term(y: torch.Tensor, info: dict[str, Any]) -> Any:
    """The blind setting: isolated pure black/white pixels mean impulses (L1 with their fraction);
    otherwise MSE with a noise-level function ``a + b x + c x^2`` fitted to the image (Gaussian, Poisson,
    speckle and their mixtures), which the stopping rule uses as the expected residual.
    """
    from .fit import losses as L

    impulses = L.detect_impulses(y)
    if impulses > L.IMPULSE_FRACTION:
        info.update(identified="impulses", amount=round(impulses, 5))
        return L.L1(amount=impulses, skip_impulses=True)
    try:
        coefficients = L.estimate_level_function(y)
    except ConfigError:  # too small to fit a curve: the stopping rule estimates a Gaussian sigma instead
        info.update(identified="gaussian (too small for a noise-level function)")
        return L.MSE()
    info.update(identified="noise-level function", coefficients=[round(c, 8) for c in coefficients])
    return L.LevelFunction(coefficients)


def jpeg(
    image: ImageSource,
    *,
    preset: str | None = None,
    net: str | None = None,
    num_iter: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    stop: str = "auto",
    reference: ImageSource | None = None,
    snapshots: Sequence[int] | str | None = None,
    snapshot_dir: str | Path | None = None,
    quiet: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    curves: str | Path | None = None,
    animation: str | Path | None = None,
    compare: str | Path | None = None,
    tile: int | None = None,
    overlap: int = 16,
    max_memory: str | int | None = None,
    work_dir: str | Path | None = None,
    resume: bool = False,
) -> Restoration:
    """Remove JPEG compression artifacts (blocking, ringing) blindly: fit the compressed image itself and
    stop before the network reproduces the artifacts, which it learns later than the image.

    The ``paper`` and ``fast`` presets use the DIP reference's settings for the "blind restoration of a
    JPEG-compressed image" figure (Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018): a light
    skip network (8 to 128 channels, skips at the two coarsest levels only), a 3-channel noise input with
    perturbation 1/30, output averaging, and a fixed 2400 iterations (``--stop auto`` is ``none`` here).

    Args:
        image: the JPEG-compressed image (any format; the decoded pixels are fitted).

    """
    img = io.load_image(image)
    _check_size(img)
    y = io.to_tensor(img.pixels)
    from .fit.losses import MSE
    from .physics import Identity

    job = _Job("jpeg", img, Identity(), y, None, 1, img.alpha, input_for_score=img.pixels, loss=MSE())
    return _run(
        job, preset=preset, net=net, num_iter=num_iter, lr=lr, seed=seed, device=device, precision=precision,
        threads=threads, stop=stop, reference=reference, snapshots=snapshots, snapshot_dir=snapshot_dir,
        snapshot_stem=_stem(image), quiet=quiet, time_limit=time_limit, callbacks=callbacks,
        curves=curves, animation=animation, compare=compare,
        tiling=TileOptions(tile=tile, overlap=overlap, max_memory=max_memory, work_dir=work_dir, resume=resume),
    )


def flash_no_flash(
    flash: ImageSource,
    noflash: ImageSource,
    *,
    preset: str | None = None,
    net: str | None = None,
    num_iter: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    stop: str = "auto",
    reference: ImageSource | None = None,
    snapshots: Sequence[int] | str | None = None,
    snapshot_dir: str | Path | None = None,
    quiet: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    curves: str | Path | None = None,
    animation: str | Path | None = None,
    compare: str | Path | None = None,
) -> Restoration:
    """Flash/no-flash reconstruction: the network takes the *flash* image as its input and is fitted to the
    noisy *no-flash* image, so the result keeps the no-flash lighting with the flash image's detail.

    The ``paper`` preset follows the DIP reference (Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior",
    CVPR 2018, flash/no-flash figure): skip net 128x5, Adam lr 0.1, 601 iterations, no input perturbation,
    no output averaging (the last output is the answer); ``fast`` the same with 64 channels in bfloat16.
    The reference used nearest upsampling at the two finest levels; we use bilinear throughout.

    Args:
        flash: the flash image (the network's input).
        noflash: the no-flash image (the target), same size.

    """
    flash_img = io.load_image(flash)
    target = io.load_image(noflash)
    _check_size(target, "the no-flash image")
    if (flash_img.height, flash_img.width) != (target.height, target.width):
        raise InputError(f"the flash image is {flash_img.size_text} but the no-flash image is {target.size_text}; "
                         "they must be the same size (an aligned pair)")
    y = io.to_tensor(target.pixels)
    from .fit.losses import MSE
    from .physics import Identity

    job = _Job("flash-no-flash", target, Identity(), y, None, 1, target.alpha, input_for_score=target.pixels,
               loss=MSE(), net_input=io.to_tensor(flash_img.pixels))
    return _run(
        job, preset=preset, net=net, num_iter=num_iter, lr=lr, seed=seed, device=device, precision=precision,
        threads=threads, stop=stop, reference=reference, snapshots=snapshots, snapshot_dir=snapshot_dir,
        snapshot_stem=_stem(noflash), quiet=quiet, time_limit=time_limit, callbacks=callbacks,
        curves=curves, animation=animation, compare=compare, tiling=TileOptions(max_memory=None),
    )


def is_scattered(known: np.ndarray) -> bool:
    """Whether a mask's missing pixels are scattered (pixel restoration) rather than holes.

    True when at least half of the missing pixels have a known pixel among their 4 neighbours: a random
    50 % mask gives about 94 %, a hole of 10x10 pixels 36 %. Scattered masks stop with ``holdout``
    under ``--stop auto`` (measured on pixel restoration); holes run to ``--iters`` (not measured).
    """
    missing = ~known
    n = int(missing.sum())
    if n == 0:
        return False
    pad = np.pad(known, 1, mode="constant", constant_values=False)
    near = pad[:-2, 1:-1] | pad[2:, 1:-1] | pad[1:-1, :-2] | pad[1:-1, 2:]
    return bool((near & missing).sum() >= 0.5 * n)


def inpaint(
    image: ImageSource,
    *,
    mask: ImageSource | np.ndarray | None = None,
    preset: str | None = None,
    net: str | None = None,
    num_iter: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    stop: str = "auto",
    reference: ImageSource | None = None,
    snapshots: Sequence[int] | str | None = None,
    snapshot_dir: str | Path | None = None,
    quiet: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    curves: str | Path | None = None,
    animation: str | Path | None = None,
    compare: str | Path | None = None,
    tile: int | None = None,
    overlap: int = 16,
    max_memory: str | int | None = None,
    work_dir: str | Path | None = None,
    resume: bool = False,
    keep_known: bool = True,
) -> Restoration:
    """Fill the missing pixels of an image (inpainting, pixel restoration).

    Args:
        image: the damaged image.
        mask: white = known, black = missing (grey >= 128 counts as known). Without a mask, the image's
            transparent pixels (alpha 0) are the missing ones, and the output is opaque.
        keep_known: return the known pixels as given and the network's image only in the missing ones
            (default). False returns the network's image everywhere, as the paper did; for a noisy image
            whose known pixels should be denoised as well.

    """
    img = io.load_image(image)
    _check_size(img)
    out_alpha = img.alpha
    if mask is None:
        if img.alpha is None or not (img.alpha < 0.5 / 255).any():
            raise InputError("inpaint needs --mask (white = known, black = missing), or a PNG with transparent pixels")
        known = img.alpha >= 0.5 / 255
        out_alpha = None
    else:
        if isinstance(mask, ImageData):
            mask = mask.pixels
        known = io.load_mask(mask, height=img.height, width=img.width)  # type: ignore[arg-type]
    if not known.any():
        raise InputError("the mask marks no pixel as known: nothing to fit")
    from .physics import Mask

    m = torch.from_numpy(known.astype(np.float32))[None, None]
    y = io.to_tensor(img.pixels) * m
    job = _Job("inpaint", img, Mask(m), y, m, 1, out_alpha, input_for_score=img.pixels * known[:, :, None],
               auto_stop="holdout" if is_scattered(known) else None, keep_known=keep_known)
    return _run(
        job, preset=preset, net=net, num_iter=num_iter, lr=lr, seed=seed, device=device, precision=precision,
        threads=threads, stop=stop, reference=reference, snapshots=snapshots, snapshot_dir=snapshot_dir,
        snapshot_stem=_stem(image), quiet=quiet, time_limit=time_limit, callbacks=callbacks,
        curves=curves, animation=animation, compare=compare,
        tiling=TileOptions(tile=tile, overlap=overlap, max_memory=max_memory, work_dir=work_dir, resume=resume),
    )


SCALES = (2, 4, 8)


def super_resolve(
    image: ImageSource,
    *,
    scale: int,
    kernel: str = "lanczos2",
    preset: str | None = None,
    net: str | None = None,
    num_iter: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    stop: str = "auto",
    reference: ImageSource | None = None,
    snapshots: Sequence[int] | str | None = None,
    snapshot_dir: str | Path | None = None,
    quiet: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    curves: str | Path | None = None,
    animation: str | Path | None = None,
    compare: str | Path | None = None,
    tile: int | None = None,
    overlap: int = 16,
    max_memory: str | int | None = None,
    work_dir: str | Path | None = None,
    resume: bool = False,
) -> Restoration:
    """Enlarge an image by ``scale`` with a Deep Image Prior.

    The network's output is downsampled by the stated operator (``kernel``) and fitted to the input.

    Args:
        image: the low-resolution image.
        scale: 2, 4 or 8.
        kernel: the downsampling operator the fit assumes: ``lanczos2`` (the paper's), ``lanczos3``,
            ``bicubic`` or ``box``.

    """
    if scale not in SCALES:
        raise ConfigError(f"scale {scale!r} is invalid; expected one of {', '.join(map(str, SCALES))}")
    img = io.load_image(image)
    if min(img.height, img.width) < 4:
        raise InputError(f"image is {img.size_text}; super-resolution needs at least 4x4 pixels")
    from .physics import Downsample

    alpha = None
    if img.alpha is not None:
        from PIL import Image

        a = Image.fromarray(np.round(img.alpha * 255).astype(np.uint8))
        size = (img.width * scale, img.height * scale)
        alpha = np.asarray(a.resize(size, Image.Resampling.BICUBIC), np.float32) / 255
    y = io.to_tensor(img.pixels)
    job = _Job("super-resolve", img, Downsample(scale, kernel), y, None, scale, alpha, scale=scale)
    return _run(
        job, preset=preset, net=net, num_iter=num_iter, lr=lr, seed=seed, device=device, precision=precision,
        threads=threads, stop=stop, reference=reference, snapshots=snapshots, snapshot_dir=snapshot_dir,
        snapshot_stem=_stem(image), quiet=quiet, time_limit=time_limit, callbacks=callbacks,
        curves=curves, animation=animation, compare=compare,
        tiling=TileOptions(tile=tile, overlap=overlap, max_memory=max_memory, work_dir=work_dir, resume=resume),
    )


for _f in (denoise, inpaint, super_resolve):
    _f.__doc__ = (_f.__doc__ or "").rstrip() + _COMMON_DOC + """
    Returns:
        A :class:`Restoration` (``.image``, ``.fit``, ``.psnr``, ``.report()``, ``.save(path)``).
    """


@dataclass
class Degradation:
    """The output of :func:`degrade`: the corrupted image, and the mask of kept pixels when ``drop`` is used."""

    image: ImageData
    mask: np.ndarray | None = None
    description: str = ""


def degrade(
    image: ImageSource,
    *,
    noise: str | None = None,
    sigma: float | None = None,
    peak: float | None = None,
    amount: float | None = None,
    drop: float | None = None,
    downscale: int | None = None,
    seed: int = 0,
) -> Degradation:
    """Corrupt a clean image with the project's own, seeded, noise models.

    Order: downscale (antialiased bicubic, Pillow's ``Image.resize``), then noise, clip to [0, 1], then
    drop pixels (missing pixels are set to 0). The result keeps the input's bit depth.

    Args:
        image: the clean image.
        noise: ``gaussian``, ``poisson``, ``salt-pepper`` or ``speckle``; inferred from the level given
            when None (``sigma`` -> gaussian, ``peak`` -> poisson, ``amount`` -> salt-pepper).
        sigma: Gaussian standard deviation on the 0-255 scale, or, with ``noise="speckle"``, the speckle
            standard deviation on the [0, 1] scale.
        peak: Poisson peak (photons at intensity 1).
        amount: salt-and-pepper fraction of pixels.
        drop: probability that a pixel goes missing.
        downscale: integer factor to shrink the image by.
        seed: seeds every random draw.

    Example:
        >>> import numpy as np
        >>> d = degrade(np.full((16, 16, 3), 128, np.uint8), sigma=25, seed=0)
        >>> d.image.pixels.shape
        (16, 16, 3)

    """
    from .physics import make_noise, random_mask

    img = io.load_image(image)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed {seed!r} is invalid; expected a whole number >= 0")
    if noise is None:
        given = [n for n, v in (("gaussian", sigma), ("poisson", peak), ("salt-pepper", amount)) if v is not None]
        if len(given) > 1:
            raise ConfigError("give one noise level (--sigma, --peak or --amount), or name the noise with --noise")
        noise = given[0] if given else None
    parts: list[str] = []
    pixels = img.pixels
    alpha = img.alpha
    if downscale is not None:
        if isinstance(downscale, bool) or not isinstance(downscale, int) or downscale < 1:
            raise ConfigError(f"downscale factor {downscale!r} is invalid; expected a whole number >= 1")
        pixels, alpha = _downscale(img, downscale)
        parts.append(f"downscale x{downscale} (bicubic, antialiased)")
    x = io.to_tensor(pixels)
    gen = torch.Generator().manual_seed(seed)
    if noise is not None:
        level = {"gaussian": sigma, "poisson": peak, "salt-pepper": amount, "speckle": sigma}.get(noise)
        if noise not in ("gaussian", "poisson", "salt-pepper", "speckle"):
            make_noise(noise, 0.0)  # raises with the list of choices
        if level is None:
            flag = {"gaussian": "--sigma", "poisson": "--peak", "salt-pepper": "--amount", "speckle": "--sigma"}[noise]
            raise ConfigError(f"{noise} noise needs its level ({flag})")
        model = make_noise(noise, level / 255.0 if noise == "gaussian" else level)
        x = model(x, generator=gen)
        parts.append(repr(model))
    x = x.clamp(0, 1)
    mask = None
    if drop is not None:
        m = random_mask(x.shape[-2], x.shape[-1], drop=drop, generator=gen)
        x = x * m
        mask = m[0, 0].numpy() > 0.5
        parts.append(f"drop {drop:g} of pixels")
    if not parts:
        raise ConfigError("nothing to do: give a noise level (--sigma, --peak, --amount), --drop or --downscale")
    out = ImageData(pixels=io.quantize(io.from_tensor(x), img.bit_depth), alpha=alpha, bit_depth=img.bit_depth)
    return Degradation(image=out, mask=mask, description=", ".join(parts))


def _downscale(img: ImageData, factor: int) -> tuple[np.ndarray, np.ndarray | None]:
    from PIL import Image

    w, h = img.width // factor, img.height // factor
    if min(w, h) < 1:
        raise InputError(f"image is {img.size_text}: too small to downscale by {factor}")

    def resize(plane: np.ndarray) -> np.ndarray:
        pil = Image.fromarray(plane.astype(np.float32), mode="F")
        return np.asarray(pil.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)

    # Crop so that the sides divide by the factor, as SR benchmarks do, then resize each plane in float.
    px = img.pixels[: h * factor, : w * factor]
    pixels = np.clip(np.stack([resize(px[:, :, c]) for c in range(px.shape[2])], axis=2), 0, 1)
    alpha = None if img.alpha is None else np.clip(resize(img.alpha[: h * factor, : w * factor]), 0, 1)
    return pixels, alpha
