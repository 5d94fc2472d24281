"""Uploaded files: kept on disk under the server's work folder, read as the command line reads them.

Each upload is checked when it arrives (size, header, pixel count, one frame, then decoded in full), so a
bad file gets its message on the page at once; a decompression bomb is refused from its header, before any
pixel is decoded. Messages name the file as the user named it, never the server's folders.
"""

from __future__ import annotations

import io as _bytesio
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from ..errors import InputError

#: The name an upload is stored under: its own name, reduced to safe characters.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str | None) -> str:
    """A file name without folders or odd characters (``upload`` when nothing is left)."""
    base = Path(str(name or "")).name
    cleaned = _UNSAFE.sub("_", base).strip("._")
    return cleaned[:100] or "upload"


def preview_png(pixels: np.ndarray, alpha: np.ndarray | None = None) -> bytes:
    """An 8-bit PNG of float pixels in [0, 1] (H x W x C), with alpha when given: what a browser shows."""
    from PIL import Image

    px = np.clip(pixels, 0.0, 1.0)
    if px.ndim == 3 and px.shape[2] == 1:
        px = px[:, :, 0]
    data = np.round(px * 255).astype(np.uint8)
    if alpha is not None:
        a = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
        rgb = data if data.ndim == 3 else np.repeat(data[:, :, None], 3, axis=2)
        data = np.concatenate([rgb, a[:, :, None]], axis=2)
    buffer = _bytesio.BytesIO()
    Image.fromarray(data).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@dataclass
class Upload:
    """One uploaded image: its file, what it holds, and an 8-bit preview for the page."""

    id: str
    name: str
    path: Path
    width: int
    height: int
    channels: int
    bit_depth: int
    alpha: bool
    holes: bool
    preview: bytes
    created: float = field(default_factory=time.monotonic)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "width": self.width, "height": self.height,
                "channels": self.channels, "bit_depth": self.bit_depth, "alpha": self.alpha, "holes": self.holes,
                "preview": f"/api/uploads/{self.id}/preview.png"}


class Uploads:
    """The uploads of this server, by id; the oldest are dropped past ``keep`` (files and all).

    Args:
        folder: where the files go (one sub-folder per upload).
        max_bytes: the largest file accepted.
        max_pixels: the largest pixel count accepted (read from the header, before decoding).
        keep: how many uploads are kept.

    """

    def __init__(self, folder: Path, *, max_bytes: int, max_pixels: int, keep: int = 200) -> None:
        self.folder, self.max_bytes, self.max_pixels, self.keep = folder, max_bytes, max_pixels, keep
        self._items: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def clean(self, message: str) -> str:
        """A message with the server's upload folders taken out (the file's own name stays)."""
        return re.sub(re.escape(str(self.folder)) + r"/[0-9a-f]+/", "", message)

    def add(self, name: str | None, data: bytes) -> Upload:
        """Store and read one file; an :class:`InputError` with a message for the page when it is refused."""
        shown = safe_name(name)
        if len(data) > self.max_bytes:
            raise InputError(f"{shown} is {len(data) / 1e6:.1f} MB, over the upload limit of "
                             f"{self.max_bytes / 1e6:g} MB")
        if not data:
            raise InputError(f"{shown} is empty")
        uid = secrets.token_hex(8)
        path = self.folder / uid / shown
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        try:
            image = io.load_image(path, max_pixels=self.max_pixels)
        except InputError as exc:
            _remove(path)
            raise InputError(self.clean(str(exc)).replace("--max-pixels", "deepprior serve --max-pixels")) from None
        holes = image.alpha is not None and bool((image.alpha < 0.5 / 255).any())
        upload = Upload(uid, shown, path, image.width, image.height, image.channels, image.bit_depth,
                        image.alpha is not None, holes, preview_png(image.pixels, image.alpha))
        with self._lock:
            self._items[uid] = upload
            while len(self._items) > self.keep:
                _remove(self._items.pop(next(iter(self._items))).path)
        return upload

    def get(self, uid: str) -> Upload:
        with self._lock:
            upload = self._items.get(uid)
        if upload is None:
            raise InputError("that upload is gone (the server keeps the latest ones); choose the file again")
        return upload

    def path(self, uid: str) -> Path:
        return self.get(uid).path


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass
