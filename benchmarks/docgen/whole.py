"""Issue #31's whole-image tables: Table 1 (pixel restoration, 50 % missing) on the paper's whole masked inputs
with the default a user gets (``deepprior bench pixels --stop auto``), beside the published DIP and Papyan et al.
outputs scored by the same code, and beside this project's own 128x128 centre-crop run of the same images; and
the memory-layout timing that made channels-last a bfloat16-only choice (``studies/layout_time.py``)."""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean
from typing import Any

from docgen.markdown import table
from docgen.results import Row, rows, with_companion

WHOLE = "pixels_full_auto.json"
CROP = "pixels_crop128_fast.json"
LAYOUT = "layout_time_fp32_grey.json"
LAYOUT_COLOUR = "layout_time_fp32_colour.json"
BLACK = "pixels_black.json"
HOUSE_TO_COUNT = "stop_eval_pixels_whole_house.json"
#: Table 1's images in the paper's order: a copy of ``deepprior.tasks.inpaint.PIXEL_IMAGES``, as the docs generator
#: runs without importing the package (tests/test_docs.py).
ORDER = ("barbara", "boat", "house", "Lena512", "peppers256", "Cameraman256", "couple", "fingerprint", "hill", "man",
         "montage")


def _whole() -> list[Row]:
    """The whole-image rows run so far (both processes' files), in Table 1's order."""
    got = {r["image"]: r for r in with_companion(WHOLE)}
    return [got[n] for n in ORDER if n in got]


def _crop(name: str) -> Row | None:
    return next((r for r in rows(CROP) if r["image"] == name), None)


def _black(name: str) -> int:
    """How many of the image's pixels are black in the ground truth and so read as missing
    (``studies/pixels_black.py``)."""
    return int(next(r for r in rows(BLACK) if r["image"] == name)["ambiguous_pixels"])


def _clear(score: Row, name: str) -> float | None:
    """A method's PSNR without the pixels black in the ground truth: the figure itself where there are none,
    None where a row from before the harness scored them apart lacks it."""
    return float(score["psnr"]) if _black(name) == 0 else score.get("psnr_unambiguous")


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def pixels_whole_table() -> str:
    """Per image: the default on the whole image (its stop, iterations, minutes, the oracle peak), the published
    outputs, the biharmonic baseline, both PSNRs without the pixels black in the ground truth, and the default's
    figure on the 128x128 centre crop."""
    body = []
    for r in _whole():
        d, crop, name = r["deepprior"], _crop(r["image"]), r["image"]
        body.append([name, "x".join(map(str, r["size"])), f"{d['psnr']:.2f}", f"{d['stop']}", d["iterations"],
                     f"{d['seconds'] / 60:.0f}", f"{d['oracle_psnr']:.2f} @ {d['oracle_iteration']}",
                     f"{r['published DIP']['psnr']:.2f}", f"{d['psnr'] - r['published DIP']['psnr']:+.2f}",
                     f"{r['published Papyan']['psnr']:.2f}", f"{r['biharmonic']['psnr']:.2f}", _black(name),
                     f"{_cell(_clear(d, name))} / {_cell(_clear(r['published DIP'], name))}",
                     "—" if crop is None else f"{crop['deepprior']['psnr']:.2f} / {crop['published DIP']['psnr']:.2f}"])
    return table(["image", "size", "deepprior (whole)", "stop", "iterations", "minutes", "oracle peak @ it",
                  "published DIP", "deepprior − published", "published Papyan", "biharmonic",
                  "black pixels", "without them: deepprior / published DIP",
                  "128 crop: deepprior / published DIP"], body)


def pixels_black_table() -> str:
    """The pixels of each Table 1 image that are black in the ground truth, and what they do to the published
    outputs' PSNR."""
    body = [[r["image"], r["ambiguous_pixels"], f"{r['published DIP']['psnr']:.2f}",
             f"{r['published DIP'].get('psnr_unambiguous', r['published DIP']['psnr']):.2f}",
             f"{r['published Papyan']['psnr']:.2f}",
             f"{r['published Papyan'].get('psnr_unambiguous', r['published Papyan']['psnr']):.2f}"]
            for r in rows(BLACK) if r["ambiguous_pixels"]]
    return table(["image", "black pixels", "published DIP", "without them", "published Papyan", "without them"], body)


def layout_time_table() -> str:
    """Seconds per iteration of `fast` in each memory layout (``studies/layout_time.py``), float32, grey and
    colour."""
    body = [[f"{r['size']}x{r['size']}", kind, f"{r['channels_first_s']:.3f}", f"{r['channels_last_s']:.3f}",
             f"{r['ratio_last_over_first']:.2f}"]
            for name, kind in ((LAYOUT, "grey"), (LAYOUT_COLOUR, "colour")) for r in rows(name)]
    return table(["image", "channels", "channels-first s / it", "channels-last s / it",
                  "channels-last / channels-first"], body)


def _mean(key: Callable[[Row], float]) -> float:
    return mean(key(r) for r in _whole())


def _clear_pairs() -> list[tuple[float, float]]:
    """(deepprior, published DIP) without the black pixels, over the images that have both."""
    pairs = [(_clear(r["deepprior"], r["image"]), _clear(r["published DIP"], r["image"])) for r in _whole()]
    return [(a, b) for a, b in pairs if a is not None and b is not None]


def _house_rules() -> dict[str, Any]:
    """Where each rule would have stopped house's whole-image fit followed to the count (``stop_eval.py``)."""
    rules: dict[str, Any] = rows(HOUSE_TO_COUNT)[0]["rules"]
    return rules


def _settings() -> dict[str, Any]:
    """The settings of the whole-image run (the first file's; the ``_b`` file ran the same command on others)."""
    got = _whole()[0]["deepprior"]
    return {k: got[k] for k in ("preset", "net", "precision", "device", "threads", "lr")}


TABLES: dict[str, Callable[[], str]] = {"pixels_whole_table": pixels_whole_table,
                                        "layout_time_table": layout_time_table,
                                        "pixels_black_table": pixels_black_table}
VALUES: dict[str, Callable[[], Any]] = {
    "pixels_whole_count": lambda: len(_whole()),
    "pixels_whole_names": lambda: ", ".join(r["image"] for r in _whole()),
    "pixels_whole_missing": lambda: ", ".join(n for n in ORDER if n not in {r["image"] for r in _whole()}) or "none",
    "pixels_whole_mean": lambda: _mean(lambda r: r["deepprior"]["psnr"]),
    "pixels_whole_published_mean": lambda: _mean(lambda r: r["published DIP"]["psnr"]),
    "pixels_whole_papyan_mean": lambda: _mean(lambda r: r["published Papyan"]["psnr"]),
    "pixels_whole_gap": lambda: _mean(lambda r: r["deepprior"]["psnr"] - r["published DIP"]["psnr"]),
    "pixels_whole_oracle_gap": lambda: _mean(lambda r: r["deepprior"]["oracle_psnr"] - r["deepprior"]["psnr"]),
    "pixels_whole_clear_count": lambda: len(_clear_pairs()),
    "pixels_whole_clear_mean": lambda: mean(a for a, _ in _clear_pairs()),
    "pixels_whole_clear_published_mean": lambda: mean(b for _, b in _clear_pairs()),
    "pixels_whole_clear_gap": lambda: mean(a - b for a, b in _clear_pairs()),
    "pixels_whole_minutes": lambda: sum(r["deepprior"]["seconds"] for r in _whole()) / 60,
    "layout_colour_tile_saving": lambda: 100 * (1 - 1 / float(
        next(r for r in rows(LAYOUT_COLOUR) if r["size"] == 160)["ratio_last_over_first"])),
    "house_whole_count_gain": lambda: _house_rules()["none"]["psnr"] - _house_rules()["holdout"]["psnr"],
    "pixels_whole_settings": lambda: ", ".join(f"{k} {v}" for k, v in _settings().items()),
}
