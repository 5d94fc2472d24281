"""A batch on Ray (the optional extra ``deepprior[ray]``): every file a task, every tile of a tiled file a task.

``--ray`` starts a local Ray on this machine's cores; ``--ray ADDRESS`` joins a cluster (``auto``, ``HOST:6379``
or ``ray://HOST:10001``). A task asks for ``--threads`` CPUs (1 by default) and a GPU when the cluster has
them. A file that needs tiling is a task that submits one task per tile and blends their results, so its
tiles spread over the cluster. Ray retries a task whose worker died; the driver writes each result as it
arrives. Nothing is sent anywhere else: usage statistics are switched off before Ray starts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import ConfigError
from .worker import JobSpec, Outcome, run_job

#: Times Ray runs a task again when its worker process dies (killed, out of memory, a node lost).
MAX_RETRIES = 3

_log = logging.getLogger(__name__)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError('--ray needs Ray: pip install "deepprior[ray]"') from None
    return ray


def _with_threads(threads: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` with PyTorch's threads set as in the task that submitted it (a tile as it would run there)."""
    import torch

    torch.set_num_threads(threads)
    return fn(*args)


def ray_tile_map(fn: Callable[..., Any], items: list[tuple[Any, ...]]) -> Iterator[Any]:
    """Every tile a Ray task of its own, each with the submitting task's resources; results in tile order.

    The submitting task waits in ``ray.get``, which hands its CPUs back to Ray meanwhile.
    """
    import torch

    ray = _import_ray()
    threads = torch.get_num_threads()
    gpus = 1 if torch.cuda.is_available() else 0
    remote = ray.remote(_with_threads).options(num_cpus=threads, num_gpus=gpus, max_retries=MAX_RETRIES)
    refs = [remote.remote(threads, fn, *args) for args in items]
    try:
        for ref in refs:
            yield ray.get(ref)
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)  # no-op for finished tiles; stops the rest when the file is cancelled


def _ray_job(spec: JobSpec) -> Outcome:
    return run_job(spec, "ray", tile_map=ray_tile_map)


class RayBackend:
    """Submit every file as a Ray task and yield the outcomes as they finish."""

    name = "ray"

    def __init__(self, address: str, threads: int | None) -> None:
        self.ray = _import_ray()
        self.threads = threads or 1
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no calls out
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "ignore_reinit_error": True}
        if address == "local":
            from ..device import available_cores

            kwargs["num_cpus"] = available_cores()
        else:
            kwargs["address"] = address
        try:
            self.ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot start or join Ray at {address!r}: {exc}") from None
        cpus = self.ray.cluster_resources().get("CPU", 0)
        if self.threads > cpus:
            self.ray.shutdown()
            raise ConfigError(f"--threads {self.threads} is more than the {cpus:g} CPUs of the Ray cluster")
        self.gpus = 1 if self.ray.cluster_resources().get("GPU", 0) >= 1 else 0
        _log.info("ray: %s, %g CPUs and %g GPUs; each file a task of %d CPUs%s", "a local cluster"
                  if address == "local" else f"the cluster at {address}", cpus,
                  self.ray.cluster_resources().get("GPU", 0), self.threads, " and a GPU" if self.gpus else "")
        self._pending: list[Any] = []

    def run(self, specs: Sequence[JobSpec]) -> Iterator[Outcome]:
        remote = self.ray.remote(_ray_job).options(num_cpus=self.threads, num_gpus=self.gpus,
                                                   max_retries=MAX_RETRIES)
        order = {}
        for spec in specs:
            ref = remote.remote(spec)
            order[ref] = spec
            _log.debug("ray: %s submitted", spec.images[-1])
        self._pending = list(order)
        while self._pending:
            done, self._pending = self.ray.wait(self._pending, num_returns=1)
            ref = done[0]
            try:
                yield self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:  # retries spent, or the task could not run
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                _log.warning("ray: %s failed: %s", order[ref].images[-1], first)
                yield Outcome(order[ref].index, None, None, f"Ray task failed: {first}",
                              where={"backend": self.name})

    def close(self) -> None:
        for ref in self._pending:
            self.ray.cancel(ref, force=True)
        self._pending = []
        if self.ray.is_initialized():
            self.ray.shutdown()


__all__ = ["MAX_RETRIES", "RayBackend", "ray_tile_map"]
