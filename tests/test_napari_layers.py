"""The napari plugin's layers as images and masks and back (no Qt: these run in the default suite)."""

from __future__ import annotations

import numpy as np
import pytest

from deepprior.errors import InputError
from deepprior.napari_plugin.layers import images_of, intensity_of, known_from_missing, layer_data, missing_of_labels


@pytest.mark.parametrize(("data", "rgb", "stacked", "channels"), [
    (np.zeros((20, 24), np.uint8), False, False, 1),
    (np.zeros((20, 24, 3), np.uint8), True, False, 3),
    (np.zeros((3, 20, 24), np.uint16), False, True, 1),
    (np.zeros((2, 20, 24, 3), np.uint8), True, True, 3),
])
def test_a_layer_is_one_picture_or_a_stack(data, rgb, stacked, channels) -> None:
    data = data.copy()
    data[..., 0, 0] = 7  # not constant
    images = images_of(data, rgb=rgb)
    assert images.stacked is stacked and (images.height, images.width) == (20, 24)
    assert all(f.shape == (20, 24, channels) and f.dtype == np.float32 for f in images.frames)
    back = layer_data(images.frames, images)
    assert back.dtype == data.dtype and back.shape == data.shape
    np.testing.assert_array_equal(back, data)


def test_integer_data_keeps_its_scale_and_float_data_outside_unit_is_scaled_by_its_range() -> None:
    assert intensity_of(np.array([[0, 200]], np.uint8)).high == 255
    assert intensity_of(np.array([[0, 4000]], np.uint16)).high == 65535
    assert intensity_of(np.array([[0, 200]], np.uint16)).high == 65535  # by its type, as a 16-bit PNG is read
    assert intensity_of(np.array([[0, 200]], np.int32)).high == 255
    counts = np.array([[100.0, 350.0], [600.0, 225.0]], np.float32)
    scale = intensity_of(counts)
    assert (scale.low, scale.high) == (100.0, 600.0)
    images = images_of(counts, rgb=False)
    np.testing.assert_allclose(images.frames[0][:, :, 0], [[0, 0.5], [1, 0.25]])
    np.testing.assert_allclose(layer_data(images.frames, images), counts, rtol=1e-6)
    unit = np.array([[0.0, 0.5]], np.float64)
    assert (intensity_of(unit).low, intensity_of(unit).high) == (0.0, 1.0)


@pytest.mark.parametrize(("data", "message"), [
    (np.zeros((2, 2, 8, 8)), "4 dimensions"),
    (np.full((8, 8), 3.0), "constant"),
    (np.array([[np.nan, 1.0]]), "NaN"),
    (np.array([[-1, 3]], np.int32), "negative"),
    (np.array([[0, 70000]], np.int32), "65535"),
])
def test_layers_no_scale_fits_are_refused_in_one_line(data, message) -> None:
    with pytest.raises(InputError, match=message):
        images_of(data, rgb=False)


def test_a_painted_labels_layer_marks_the_missing_pixels_of_every_slice() -> None:
    stack = images_of(np.random.default_rng(0).integers(0, 255, (3, 10, 12), np.uint8), rgb=False)
    labels = np.zeros((10, 12), np.int32)
    labels[2:4, 3:9] = 5
    known = known_from_missing(missing_of_labels(labels), stack)
    assert len(known) == 3 and all(k.dtype == bool and k.sum() == 120 - 12 and not k[3, 5] for k in known)
    per_slice = np.zeros((3, 10, 12), np.int32)
    per_slice[1, 0, 0] = 1
    known = known_from_missing(missing_of_labels(per_slice), stack)
    assert known[0].all() and not known[1][0, 0]
    with pytest.raises(InputError, match=r"mask layer is \(9, 12\)"):
        known_from_missing(np.zeros((9, 12), bool), stack)
