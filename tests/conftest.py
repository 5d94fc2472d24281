from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(autouse=True, scope="session")
def _private_speed_cache(tmp_path_factory):
    """The plan's measured speeds go to a folder of the test session, never the user's cache."""
    import os

    old = os.environ.get("DEEPPRIOR_CACHE")
    os.environ["DEEPPRIOR_CACHE"] = str(tmp_path_factory.mktemp("speed-cache"))
    yield
    if old is None:
        os.environ.pop("DEEPPRIOR_CACHE", None)
    else:
        os.environ["DEEPPRIOR_CACHE"] = old


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def odd_rgb(rng):
    """A smooth 37x31 RGB test image (odd, non-square), uint8."""
    yy, xx = np.mgrid[0:37, 0:31]
    base = np.stack([np.sin(xx / 5.0), np.cos(yy / 7.0), np.sin((xx + yy) / 9.0)], axis=2)
    return np.round((base * 0.4 + 0.5) * 255).astype(np.uint8)


@pytest.fixture
def photo_crop():
    """A 128x128 crop of scikit-image's astronaut (a real photograph), uint8 RGB."""
    from skimage import data

    return data.astronaut()[40:168, 180:308]


@pytest.fixture
def runner():
    """click's in-process runner for the ``deepprior`` commands."""
    from click.testing import CliRunner

    return CliRunner()
