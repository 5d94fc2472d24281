"""Batches on a real local Ray cluster of 2 CPUs (issue #21): the serial images bit for bit, tiles as tasks,
and a worker killed in the middle of a batch. Marked ``ray`` (CI runs them in a step of their own)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deepprior import io

ray = pytest.importorskip("ray", reason='Ray is the optional extra deepprior[ray]')
pytestmark = pytest.mark.ray

FAST = ["--sigma", "25", "--threads", "1", "-q"]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Ray's token authentication (on by default since 2.59): the head and every driver share one token.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Ray head of 2 CPUs on this machine, started as a user would (``ray start --head``), stopped after."""
    port = _free_port()
    env = {**os.environ, **RAY_ENV}
    temp = tmp_path_factory.mktemp("ray")
    started = subprocess.run([str(BIN / "ray"), "start", "--head", "--num-cpus=2", f"--port={port}",
                              "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
                             env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    yield f"127.0.0.1:{port}"
    subprocess.run([str(BIN / "ray"), "stop", "--force"], env=env, capture_output=True)


def _images(folder: Path, n: int, size: tuple[int, int]) -> Path:
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    for i in range(n):
        io.save_image(folder / f"img{i}.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    return folder


def _deepprior(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, **RAY_ENV}
    return subprocess.Popen([str(BIN / "deepprior"), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, **kwargs)


def _same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_ray_gives_the_serial_images_bit_for_bit_with_tiles_as_tasks(cluster, tmp_path):
    inp = _images(tmp_path / "in", 2, (40, 44))
    opts = ["--iters", "4", "--tile", "16", "--overlap", "4", *FAST]
    serial = _deepprior("denoise", str(inp), "-o", str(tmp_path / "serial"), *opts)
    assert serial.wait(600) == 0, serial.stdout.read() if serial.stdout else ""
    records = tmp_path / "r.jsonl"
    run = _deepprior("denoise", str(inp), "-o", str(tmp_path / "ray"), "--ray", cluster, "--reports", str(records),
                     *opts)
    assert run.wait(600) == 0, run.stdout.read() if run.stdout else ""
    _same_files(tmp_path / "serial", tmp_path / "ray")
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(lines) == 2 and {line["backend"] for line in lines} == {"ray"}
    assert all(len(line["report"]["config"]["tiling"]["tiles"]) == 9 for line in lines)


def _ray_job_pids() -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "ray::_ray_job" in line]


def test_a_worker_killed_in_the_middle_of_a_batch_costs_nothing_but_time(cluster, tmp_path):
    inp = _images(tmp_path / "in", 4, (48, 48))
    opts = ["--iters", "150", "--stop", "none", *FAST]
    serial = _deepprior("denoise", str(inp), "-o", str(tmp_path / "serial"), *opts)
    assert serial.wait(900) == 0
    records = tmp_path / "r.jsonl"
    run = _deepprior("denoise", str(inp), "-o", str(tmp_path / "ray"), "--ray", cluster, "--reports", str(records),
                     *opts)
    deadline, killed = time.monotonic() + 300, None
    while killed is None and time.monotonic() < deadline and run.poll() is None:
        pids = _ray_job_pids()
        if pids:
            time.sleep(1.0)  # let it get into its fit
            try:
                os.kill(pids[0], signal.SIGKILL)
                killed = pids[0]
            except ProcessLookupError:
                continue
        time.sleep(0.2)
    assert killed is not None, "no Ray task was seen running"
    assert run.wait(900) == 0, run.stdout.read() if run.stdout else ""
    _same_files(tmp_path / "serial", tmp_path / "ray")  # each image whole, and as the serial run made it
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert sorted(line["input"] for line in lines) == sorted(str(p) for p in inp.iterdir())  # each once
    assert all(line["status"] == "ok" for line in lines)
    assert not [p for p in (tmp_path / "ray").iterdir() if p.name.startswith(".")]  # no temporary files left


def test_without_ray_installed_the_message_names_the_extra(monkeypatch, tmp_path, runner):
    from deepprior.cli import cli

    monkeypatch.setitem(sys.modules, "ray", None)
    inp = _images(tmp_path / "in", 2, (16, 16))
    result = runner.invoke(cli, ["denoise", str(inp), "-o", str(tmp_path / "o"), "--ray", *FAST])
    assert result.exit_code == 1 and 'deepprior[ray]' in result.output

