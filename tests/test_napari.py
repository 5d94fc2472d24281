"""The napari plugin in a headless viewer: the widget from the manifest, a denoise, an inpaint with a painted
Labels mask, Stop, a stack continued after Stop, the sample data and bad input refused in one line.

Marked ``napari`` (excluded from the default suite): ``make test-napari`` runs them in a virtual X display
(xvfb-run) with Qt's offscreen platform, as CI does.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytestmark = pytest.mark.napari
pytest.importorskip("napari")
if not os.environ.get("DISPLAY"):  # napari draws with OpenGL: without a display Qt cannot give it a context
    pytest.skip("the napari tests need an X display: make test-napari (xvfb-run)", allow_module_level=True)

from napari.qt.threading import WorkerBase  # noqa: E402
from qtpy.QtCore import QThreadPool  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

from deepprior.napari_plugin.widget import PREVIEW, RestoreWidget  # noqa: E402


@pytest.fixture
def make_napari_viewer(make_napari_viewer):
    """napari's fixture, with every fit's worker finished before it closes the viewer."""
    yield make_napari_viewer
    WorkerBase.await_workers(20_000)
    assert QThreadPool.globalInstance().waitForDone(20_000), "a fit's thread is still running"
    QApplication.processEvents()


@pytest.fixture
def viewer_and_widget(make_napari_viewer):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("deepprior", "Restore")
    assert isinstance(widget, RestoreWidget)
    return viewer, widget


def _noisy(shape, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 200, shape[-1])[None, :] * np.ones(shape[-2:])
    return np.clip(ramp + rng.normal(0, 20, shape), 0, 255).astype(np.uint8)


def _choose(widget: RestoreWidget, task: str, iterations: int) -> None:
    widget.task_box.setCurrentIndex(widget.task_box.findData(task))
    widget.iterations.setValue(iterations)
    widget.stop_box.setCurrentText("none")


def _run(qtbot, widget: RestoreWidget, timeout: int = 120_000) -> None:
    widget.restore_button.click()
    assert widget.worker is not None, widget.status.text()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=timeout)


def test_the_widget_is_built_from_the_registry_with_labels_for_people(viewer_and_widget) -> None:
    from deepprior.tasks import TASKS

    _, widget = viewer_and_widget
    assert [widget.task_box.itemData(i) for i in range(widget.task_box.count())] == list(TASKS)
    _choose(widget, "denoise", 5)
    form = {widget.options.itemAt(i, widget.options.LabelRole).widget().text(): widget.options.itemAt(
        i, widget.options.FieldRole).widget() for i in range(widget.options.rowCount())}
    sigma = next(o for o in TASKS["denoise"].options if o.name == "sigma")
    assert sigma.title in form and "--sigma" in form[sigma.title].toolTip()
    assert widget.preset_box.currentText() == "fast"


def test_denoise_adds_a_restored_layer_and_shows_a_preview_while_it_runs(qtbot, viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    viewer.add_image(_noisy((24, 28, 3)), name="noisy", rgb=True)
    _choose(widget, "denoise", 6)
    widget.fields["sigma"].setText("20")
    previews = []
    widget.viewer.layers.events.inserted.connect(lambda e: previews.append(e.value.name))
    _run(qtbot, widget)
    layer = viewer.layers["noisy restored (denoise)"]
    assert layer.data.shape == (24, 28, 3) and layer.data.dtype == np.uint8 and layer.rgb
    assert layer.metadata["deepprior"]["iterations"] == {"0": 6}
    assert PREVIEW in previews and PREVIEW not in viewer.layers
    assert widget.status.text().startswith("restored"), widget.status.text()


def test_inpaint_takes_its_mask_from_a_painted_labels_layer_and_keeps_the_known_pixels(qtbot,
                                                                                         viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    image = _noisy((24, 24))
    viewer.add_image(image, name="photo")
    painted = np.zeros((24, 24), np.int32)
    painted[8:14, 6:18] = 1
    viewer.add_labels(painted, name="holes")
    _choose(widget, "inpaint", 5)
    widget.fields["mask"].setCurrentText("holes")
    _run(qtbot, widget)
    out = viewer.layers["photo restored (inpaint)"].data
    known = painted == 0
    np.testing.assert_array_equal(out[known], image[known])
    assert not np.array_equal(out[~known], image[~known])


def test_stop_ends_the_fit_at_its_current_image_and_a_stack_continues_after_it(qtbot, viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    viewer.add_image(_noisy((3, 20, 20)), name="stack")
    _choose(widget, "denoise", 100_000)
    widget.restore_button.click()
    assert widget.worker is not None, widget.status.text()
    qtbot.waitUntil(lambda: widget.session is not None and widget.session.live.iteration >= 3, timeout=60_000)
    widget.stop_button.click()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    layer = viewer.layers["stack restored (denoise)"]
    meta = layer.metadata["deepprior"]
    assert meta["stop_reasons"] == {"0": "interrupted"} and meta["done"] == []
    assert 3 <= meta["iterations"]["0"] < 100_000
    assert "Restore continues with slices 1, 2, 3" in widget.status.text(), widget.status.text()
    widget.iterations.setValue(4)  # other settings: start again, all three slices
    _run(qtbot, widget)
    meta = viewer.layers["stack restored (denoise)"].metadata["deepprior"]
    assert meta["done"] == [0, 1, 2] and meta["iterations"] == {"0": 4, "1": 4, "2": 4}


def test_a_stopped_stack_continues_with_the_slices_left(qtbot, viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    stack = _noisy((3, 16, 16))
    viewer.add_image(stack, name="stack")
    _choose(widget, "denoise", 100_000)
    widget.stop_box.setCurrentText("auto")  # a small picture stops on its own after a few hundred iterations
    widget.restore_button.click()
    qtbot.waitUntil(lambda: widget.session is not None and widget.session.live.slice == 1, timeout=120_000)
    widget.stop_button.click()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    layer = viewer.layers["stack restored (denoise)"]
    done = layer.metadata["deepprior"]["done"]
    assert done == [0], done
    np.testing.assert_array_equal(layer.data[2], stack[2])  # not started: the input, not another slice's result
    _run(qtbot, widget, timeout=300_000)
    meta = viewer.layers["stack restored (denoise)"].metadata["deepprior"]
    assert meta["done"] == [0, 1, 2] and set(meta["iterations"]) == {str(i) for i in range(3) if i not in done}


def test_bad_input_is_one_line_in_the_widget_and_no_fit_starts(viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    _choose(widget, "denoise", 5)
    widget.restore_button.click()
    assert widget.worker is None and "add an image layer first" in widget.status.text()
    viewer.add_image(_noisy((20, 20)), name="small")
    widget.fields["sigma"].setText("lots")
    widget.restore_button.click()
    assert widget.worker is None and "--sigma 'lots' is invalid" in widget.status.text()
    widget.fields["sigma"].setText("")
    viewer.add_labels(np.zeros((9, 9), np.int32), name="wrong size")
    _choose(widget, "inpaint", 5)
    widget.fields["mask"].setCurrentText("wrong size")
    widget.restore_button.click()
    assert widget.worker is None and "the mask layer is (9, 9)" in widget.status.text()


def test_the_sample_data_opens_from_the_plugin_menu(make_napari_viewer) -> None:
    viewer = make_napari_viewer()
    layers = viewer.open_sample("deepprior", "masked_photo")
    assert [type(layer).__name__ for layer in layers] == ["Image", "Labels"]
    image, holes = layers
    assert image.data.shape == (128, 128, 3) and holes.data.shape == (128, 128) and holes.data.any()
    noisy = viewer.open_sample("deepprior", "noisy_photo")[0]
    assert noisy.data.shape == (128, 128, 3) and noisy.rgb


def test_a_shapes_layer_is_a_mask_too_and_super_resolution_lies_over_its_input(qtbot, viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    image = _noisy((24, 24))
    viewer.add_image(image, name="photo", scale=(2.0, 2.0))
    viewer.add_shapes([np.array([[4, 4], [4, 12], [12, 12], [12, 4]])], shape_type="rectangle", name="elsewhere")
    _choose(widget, "inpaint", 4)
    widget.fields["mask"].setCurrentText("elsewhere")  # drawn with another scale: refused, not misplaced
    widget.restore_button.click()
    assert widget.worker is None and "placed differently from the image" in widget.status.text()
    viewer.add_shapes([np.array([[4, 4], [4, 12], [12, 12], [12, 4]])], shape_type="rectangle", name="box",
                      scale=(2.0, 2.0))
    widget.fields["mask"].setCurrentText("box")
    _run(qtbot, widget)
    out = viewer.layers["photo restored (inpaint)"].data
    np.testing.assert_array_equal(out[16:, 16:], image[16:, 16:])  # outside the box: known, kept
    assert not np.array_equal(out[5:11, 5:11], image[5:11, 5:11])
    _choose(widget, "super-resolve", 3)
    widget.fields["scale"].setCurrentText("2")
    _run(qtbot, widget)
    big = viewer.layers["photo restored (super-resolve)"]
    assert big.data.shape == (48, 48) and tuple(big.scale) == (1.0, 1.0), widget.status.text()
    # pixel centres: the first small pixel's centre (0) lies half a big pixel right of the big one's (-0.5)
    assert tuple(big.translate) == (-0.5, -0.5)


def test_a_large_image_is_fitted_in_tiles_with_a_preview_of_the_restored_tiles(qtbot, viewer_and_widget) -> None:
    viewer, widget = viewer_and_widget
    viewer.add_image(_noisy((384, 384)), name="large")
    _choose(widget, "denoise", 3)
    widget.fields["sigma"].setText("25")
    previews = []
    viewer.layers.events.inserted.connect(lambda e: previews.append(e.value.name))
    statuses = set()
    widget.restore_button.click()
    assert widget.worker is not None, widget.status.text()
    qtbot.waitUntil(lambda: statuses.add(widget.status.text()) or widget.worker is None, timeout=180_000)
    meta = viewer.layers["large restored (denoise)"].metadata["deepprior"]
    assert meta["iterations"] == {"0": 27}, meta  # 9 tiles of 128 (the CPU's rule from 384x384), 3 iterations each
    assert PREVIEW in previews
    assert any(text.startswith("tiles: ") for text in statuses), statuses
