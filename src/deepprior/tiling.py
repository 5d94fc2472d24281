"""Tiling: restore an image of any size tile by tile, blended without seams, in bounded memory.

The image is cut into a grid of cores of at most ``tile`` pixels (equal sizes, rounded), each extended by
``overlap`` pixels into its neighbours. Each tile is restored on its own (a fresh network and input), and
neighbours are cross-faded linearly over the ``2 * overlap`` pixels they share: the weights of a pixel sum
to exactly one, so an identity restorer gives the image back unchanged. Corner regions get the product
of the two 1-D ramps (bilinear weights). Each worker holds one tile's network at a time.

The memory model is here too: what an untiled fit needs (:func:`estimate_memory`), the budget
(``--max-memory``, :func:`parse_memory`; half the machine by default), and the tile that fits it
(:func:`auto_tile`); a task's rule for tiling by default is a :class:`TileRule`. Fitting the tiles, their
work folder and their workers are :mod:`deepprior.restore.tiled` and :mod:`deepprior.restore.tile_pool`.

References:
    The progressively grown DIP thesis (tiles of 128 pixels, 16-pixel margins, linear cross-fade);
    the tile grid and weights here are written from those facts.

"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class Tile:
    """One tile: its index and its region (core plus overlap) in image coordinates, end-exclusive."""

    index: int
    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def scaled(self, factor: int) -> Tile:
        return Tile(self.index, self.top * factor, self.left * factor, self.bottom * factor, self.right * factor)


def boundaries(n: int, tile: int) -> list[int]:
    """Core boundaries along one side: ``ceil(n / tile)`` cores of (nearly) equal size."""
    count = max(1, math.ceil(n / tile))
    return [round(i * n / count) for i in range(count + 1)]


def ramp(n: int, bounds: list[int], i: int, overlap: int) -> tuple[int, int, np.ndarray]:
    """Start, end and 1-D weights of tile ``i`` along a side of ``n`` pixels.

    Pixel ``p`` in the cross-fade ``[b - overlap, b + overlap)`` around an inner boundary ``b`` weighs
    ``(b + overlap - p - 1/2) / (2 overlap)`` for the tile before it and one minus that for the tile after.
    """
    count = len(bounds) - 1
    start = bounds[i] - overlap if i > 0 else 0
    end = bounds[i + 1] + overlap if i < count - 1 else n
    p = np.arange(start, end, dtype=np.float64) + 0.5
    w = np.ones(end - start)
    if overlap > 0:
        if i > 0:
            b = bounds[i]
            rising = p < b + overlap
            w[rising] = (p[rising] - (b - overlap)) / (2 * overlap)
        if i < count - 1:
            b = bounds[i + 1]
            falling = p >= b - overlap
            w[falling] = np.minimum(w[falling], ((b + overlap) - p[falling]) / (2 * overlap))
    return start, end, w


def tile_grid(height: int, width: int, tile: int, overlap: int) -> list[Tile]:
    """The tiles covering a ``height`` x ``width`` image (row by row).

    Raises:
        ConfigError: the tile is smaller than twice the overlap (cross-fades would collide).

    Example:
        >>> [(t.top, t.bottom) for t in tile_grid(300, 100, 128, 16)][:3]
        [(0, 116), (84, 216), (184, 300)]

    """
    if tile < 1 or overlap < 0:
        raise ConfigError(f"tile {tile} and overlap {overlap} must be positive")
    by, bx = boundaries(height, tile), boundaries(width, tile)
    smallest = min(min(np.diff(by)), min(np.diff(bx)))
    if (len(by) > 2 or len(bx) > 2) and smallest < 2 * overlap:
        raise ConfigError(
            f"tiles of {smallest} pixels cannot hold an overlap of {overlap} on each side; "
            f"use --tile of at least {2 * overlap} or a smaller --overlap"
        )
    tiles: list[Tile] = []
    for iy in range(len(by) - 1):
        y0, y1, _ = ramp(height, by, iy, overlap)
        for ix in range(len(bx) - 1):
            x0, x1, _ = ramp(width, bx, ix, overlap)
            tiles.append(Tile(len(tiles), y0, x0, y1, x1))
    return tiles


def tile_weights(height: int, width: int, tile: int, overlap: int) -> Iterator[tuple[Tile, np.ndarray]]:
    """Each tile with its 2-D blending weights (``tile.height x tile.width``); they sum to one everywhere."""
    by, bx = boundaries(height, tile), boundaries(width, tile)
    grid = tile_grid(height, width, tile, overlap)
    cols = len(bx) - 1
    for t in grid:
        iy, ix = divmod(t.index, cols)
        _, _, wy = ramp(height, by, iy, overlap)
        _, _, wx = ramp(width, bx, ix, overlap)
        yield t, np.outer(wy, wx)


class Blender:
    """Accumulates weighted tiles into the full image, in any order, then normalises.

    Args:
        height: image rows.
        width: image columns.
        channels: image channels.

    """

    def __init__(self, height: int, width: int, channels: int) -> None:
        self.acc = np.zeros((height, width, channels), np.float64)
        self.weight = np.zeros((height, width), np.float64)

    def add(self, tile: Tile, image: np.ndarray, weights: np.ndarray) -> None:
        if image.shape[:2] != (tile.height, tile.width):
            raise ValueError(f"tile {tile.index} result is {image.shape[:2]}, expected {(tile.height, tile.width)}")
        self.acc[tile.top : tile.bottom, tile.left : tile.right] += image * weights[:, :, None]
        self.weight[tile.top : tile.bottom, tile.left : tile.right] += weights

    def result(self) -> np.ndarray:
        return (self.acc / np.maximum(self.weight, 1e-12)[:, :, None]).astype(np.float32)


def split_and_blend(image: np.ndarray, tile: int, overlap: int, restore: object) -> np.ndarray:
    """Cut ``image`` into tiles, restore each with ``restore(tile_pixels) -> pixels``, and blend.

    The pure-function form of what the tiled fit does (used by tests and by simple restorers).
    """
    h, w, c = image.shape
    blender = Blender(h, w, c)
    for t, wts in tile_weights(h, w, tile, overlap):
        out = restore(image[t.top : t.bottom, t.left : t.right])  # type: ignore[operator]
        blender.add(t, np.asarray(out), wts)
    return blender.result()


@dataclass(frozen=True)
class TileRule:
    """When a task restores in tiles by default (on the CPU, where tiles fitted side by side pay):
    images of at least ``min_pixels`` output pixels, in tiles of ``tile`` with ``overlap``, fitted at
    Adam's rate ``lr`` when the user set neither a rate nor a preset (None: the preset's).

    Example:
        >>> rule = TileRule(tile=128, overlap=16, min_pixels=384 * 384, lr=0.01)
        >>> rule.applies(512, 512), rule.applies(256, 256)
        (True, False)

    """

    tile: int
    overlap: int
    min_pixels: int
    lr: float | None = None

    def applies(self, height: int, width: int) -> bool:
        """Whether an output of ``height`` x ``width`` is large enough to be tiled."""
        return height * width >= self.min_pixels and max(height, width) > self.tile + 2 * self.overlap


#: The largest memory budget accepted (1 PB): anything larger is a typing slip.
MAX_MEMORY = 10**15


def parse_memory(text: str | int | float) -> int:
    """Bytes from ``4GB``, ``512MB``, ``2GiB`` or a number of bytes: positive and finite, at most 1 PB."""
    value: float
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise ConfigError(f"memory size {text!r} is not understood; write it like 4GB or 512MB")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        s = text.strip().upper().replace(" ", "")
        units = {"TIB": 2**40, "GIB": 2**30, "MIB": 2**20, "KIB": 2**10, "TB": 10**12, "GB": 10**9, "MB": 10**6,
                 "KB": 10**3, "T": 2**40, "G": 2**30, "M": 2**20, "K": 2**10, "B": 1}
        unit = next((u for u in units if s.endswith(u)), "")
        try:
            value = float(s[: len(s) - len(unit)]) * units.get(unit, 1)
        except (ValueError, OverflowError):
            raise ConfigError(f"memory size {text!r} is not understood; write it like 4GB or 512MB") from None
    if not 1 <= value <= MAX_MEMORY:
        raise ConfigError(f"memory size {text!r} is out of range; expected a positive, finite size such as 4GB "
                          "(at most 1PB)")
    return int(value)


#: Peak resident bytes per output pixel of an untiled fit, per channel of the network's widest level:
#: 37 (fast, 64 channels, bf16) and 56 (paper, 128 channels, fp32) measured on this project's CPU machine
#: between 256x256 and 512x512, 44 (fast, 48 channels, bf16) up to 2048x2048 (docs/benchmarks.md,
#: "Memory"); the largest is used.
BYTES_PER_PIXEL_PER_CHANNEL = 56.0
BASE_BYTES = 450 * 2**20  # Python, PyTorch and the libraries (measured: about 420 MB)


def estimate_memory(height: int, width: int, widest: int) -> int:
    """Rough peak memory (bytes) of an untiled fit of an ``height`` x ``width`` output, by a network whose widest
    level has ``widest`` channels (``NetConfig.widest``).
    """
    return int(BASE_BYTES + height * width * widest * BYTES_PER_PIXEL_PER_CHANNEL)


def default_budget() -> int:
    """Half the machine's physical memory."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def auto_tile(height: int, width: int, widest: int, max_memory: str | int | None) -> int | None:
    """A tile size when the untiled fit would exceed the budget, else None (no tiling)."""
    budget = parse_memory(max_memory) if max_memory is not None else default_budget()
    if estimate_memory(height, width, widest) <= budget:
        return None
    side = int(math.sqrt(max(1, budget - BASE_BYTES) / (widest * BYTES_PER_PIXEL_PER_CHANNEL)))
    side = max(64, min(1024, side // 2))  # the tile plus its overlap must fit, with room to spare
    return side - side % 32


def seam_energy_ratio(image: np.ndarray, tile: int, overlap: int) -> float:
    """Seam metric: mean gradient energy across the tiles' core boundaries, over the mean elsewhere.

    For each inner boundary ``b`` of the grid, the squared difference between the pixel rows (columns)
    ``b - 1`` and ``b`` is a *seam* gradient; every other adjacent pair is *elsewhere*. A value near 1
    means the boundaries look like any other place in the image; a visible seam makes it larger.
    """
    img = np.asarray(image, np.float64)
    h, w = img.shape[:2]
    dy = ((img[1:] - img[:-1]) ** 2).mean(axis=tuple(range(1, img.ndim)))  # per row pair
    dx = ((img[:, 1:] - img[:, :-1]) ** 2).mean(axis=(0, *range(2, img.ndim)))
    by, bx = boundaries(h, tile)[1:-1], boundaries(w, tile)[1:-1]
    seam = [dy[b - 1] for b in by] + [dx[b - 1] for b in bx]
    if not seam:
        return 1.0
    rest = np.concatenate([np.delete(dy, [b - 1 for b in by]), np.delete(dx, [b - 1 for b in bx])])
    return float(np.mean(seam) / max(np.mean(rest), 1e-20))
