"""The dock widget: the task, its options and the shared settings as fields built from the task registry, the
layers to restore, Restore and Stop, a progress bar and a live preview layer.

Every field comes from the registry (:class:`~deepprior.tasks.Option`: its label, help, choices and default)
and is read back by :mod:`deepprior.tasks.fields`, as the web page's are: a new task gets its form here with no
change. The fit runs in a napari worker thread (:mod:`.session`); a timer polls its progress and preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..errors import DeepPriorError, InputError
from ..restore.callbacks import TileCanvas
from ..tasks import TASKS, Task
from ..tasks.fields import parse_options, parse_settings
from .fields import fill, layer_kind, option_field, tooltip
from .layers import LayerImages, images_of, known_from_missing, layer_data, missing_of_labels
from .results import Running, digest, mask_of, placement
from .session import Live, Session

if TYPE_CHECKING:  # pragma: no cover
    import napari

#: The live preview layer's name (removed when the fit ends).
PREVIEW = "deepprior preview"
MAX_SHOWN_ITERATIONS = 1_000_000


class RestoreWidget(QWidget):
    """Restore the chosen image layer with an untrained network (napari's dock widget)."""

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: Session | None = None
        self.worker: Any = None
        self._shown_preview = -1
        self._running: Running | None = None
        self._watched: set[int] = set()

        self.task_box = QComboBox()
        for task in TASKS.values():
            self.task_box.addItem(task.title or task.name, task.name)
        self.inputs = QFormLayout()
        self.options = QFormLayout()
        self.input_boxes: dict[str, QComboBox] = {}
        self.fields: dict[str, QWidget] = {}

        self.preset_box = QComboBox()
        self.stop_box = QComboBox()
        from ..fit.stopping import stop_names
        from ..restore.checks import MAX_SEED

        self.stop_box.addItems(stop_names())
        self.stop_box.setToolTip("Stopping rule (auto: the task's measured best); the iterations stay the cap. "
                                 "(command line: --stop)")
        self.iterations = QSpinBox()
        self.iterations.setRange(0, MAX_SHOWN_ITERATIONS)
        self.iterations.setSpecialValueText("the preset's")
        self.iterations.setToolTip("Iteration cap (the preset's when 0). (command line: --iters)")
        self.seed = QSpinBox()
        self.seed.setRange(0, min(MAX_SEED, 2**31 - 1))
        self.seed.setToolTip("Seeds the weights, the input and its perturbations. (command line: --seed)")
        settings = QFormLayout()
        settings.addRow("Preset", self.preset_box)
        settings.addRow("Stopping rule", self.stop_box)
        settings.addRow("Iterations at most", self.iterations)
        settings.addRow("Seed", self.seed)

        self.restore_button = QPushButton("Restore")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("End the fit at its current image (a stack: the slices after it are left for "
                                    "the next Restore)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.stop_button)
        self.progress = QProgressBar()
        self.status = QLabel("Choose a task and an image layer, then Restore.")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        top = QFormLayout()
        top.addRow("Task", self.task_box)
        layout.addLayout(top)
        layout.addLayout(self.inputs)
        layout.addLayout(self.options)
        layout.addLayout(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self._poll)
        self.task_box.currentIndexChanged.connect(self._build_task_form)
        self.restore_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(self._refresh_layers)
        self._build_task_form()

    # -- the form ---------------------------------------------------------------------------------------------

    @property
    def task(self) -> Task:
        return TASKS.get_task(str(self.task_box.currentData()))

    def _clear(self, form: QFormLayout) -> None:
        while form.rowCount():
            form.removeRow(0)

    def _build_task_form(self, *_: Any) -> None:
        task = self.task
        self._clear(self.inputs)
        self._clear(self.options)
        self.input_boxes, self.fields = {}, {}
        for name in task.inputs:
            box = QComboBox()
            box.setToolTip(f"The image layer to use as the {name}.")
            self.input_boxes[name] = box
            self.inputs.addRow(f"{name.replace('_', ' ').capitalize()} layer", box)
        for option in task.options:
            field = option_field(option)
            field.setToolTip(tooltip(option))
            self.fields[option.name] = field
            self.options.addRow(option.title, field)
        self.preset_box.clear()
        self.preset_box.addItems(list(task.presets))
        if "fast" in task.presets:
            self.preset_box.setCurrentText("fast")
        self._refresh_layers()

    def _mask_fields(self) -> dict[str, QComboBox]:
        kinds = {o.name: o.kind for o in self.task.options}
        return {n: f for n, f in self.fields.items() if kinds.get(n) == "path" and isinstance(f, QComboBox)}

    def _refresh_layers(self, *_: Any) -> None:
        """The layer choices: image layers for the inputs, Labels and Shapes layers for masks (kept current as
        layers are added, removed or renamed).
        """
        for layer in self.viewer.layers:
            if id(layer) not in self._watched:
                self._watched.add(id(layer))
                layer.events.name.connect(self._refresh_layers)
        images = [layer.name for layer in self.viewer.layers if layer_kind(layer) == "Image"
                  and layer.name != PREVIEW and "deepprior" not in layer.metadata]
        masks = [layer.name for layer in self.viewer.layers if layer_kind(layer) in ("Labels", "Shapes")]
        for box in self.input_boxes.values():
            fill(box, images, none=False)
        for field in self._mask_fields().values():
            fill(field, masks, none=True)

    # -- running ----------------------------------------------------------------------------------------------

    def _values(self) -> tuple[dict[str, Any], str | None]:
        """The option fields as text (empty: the default), and the mask layer's name if one is chosen."""
        raw: dict[str, Any] = {}
        mask = None
        masks = self._mask_fields()
        for name, field in self.fields.items():
            if name in masks:
                mask = masks[name].currentData() or None
                if mask:
                    raw[name] = mask
            elif isinstance(field, QLineEdit):
                raw[name] = field.text()
            elif isinstance(field, QComboBox):
                raw[name] = field.currentData()
        return raw, mask

    def _layer(self, name: str) -> Any:
        if name not in self.viewer.layers:
            raise InputError(f"there is no layer {name!r} any more: choose another")
        return self.viewer.layers[name]

    def _mask_missing(self, name: str, like: LayerImages, image: Any) -> np.ndarray:
        layer = self._layer(name)
        if not (np.allclose(layer.scale[-2:], image.scale[-2:]) and np.allclose(layer.translate[-2:],
                                                                                  image.translate[-2:])):
            raise InputError(f"the mask layer {name!r} is placed differently from the image (scale "
                             f"{list(layer.scale[-2:])} and translate {list(layer.translate[-2:])} against "
                             f"{list(image.scale[-2:])} and {list(image.translate[-2:])}): give it the image's")
        if layer_kind(layer) == "Shapes":
            shapes = layer.to_masks(mask_shape=(like.height, like.width))
            missing = np.zeros((like.height, like.width), bool)
            return np.asarray(np.asarray(shapes).any(axis=0)) if len(shapes) else missing
        return missing_of_labels(layer.data)

    def start(self) -> None:
        """Check everything and build every slice's problem, then fit in a worker thread."""
        if self.worker is not None:
            return
        try:
            self._start()
        except DeepPriorError as exc:
            self._say(str(exc), error=True)
        except (ValueError, TypeError, KeyError) as exc:  # a layer napari holds in a form deepprior cannot read
            self._say(f"cannot read the layer: {exc}", error=True)

    def _start(self) -> None:
        from napari.qt.threading import create_worker

        task = self.task
        chosen = [box.currentText() for box in self.input_boxes.values()]
        if not all(chosen):
            raise InputError("add an image layer first (File > Open, or File > Open Sample > deepprior)")
        layers = [self._layer(name) for name in chosen]
        inputs = [images_of(layer.data, rgb=bool(layer.rgb)) for layer in layers]
        count = len(inputs[0].frames)
        if any(len(i.frames) != count for i in inputs):
            raise InputError("the input layers have different numbers of slices")
        raw, mask = self._values()
        missing = self._mask_missing(mask, inputs[-1], layers[-1]) if mask else None
        known = known_from_missing(missing, inputs[-1]) if missing is not None else None
        settings = parse_settings({"preset": self.preset_box.currentText(), "stop": self.stop_box.currentText(),
                                   "num_iter": self.iterations.value() or "", "seed": self.seed.value()})
        name = f"{layers[-1].name} restored ({task.name})"
        signature = {"task": task.name, "inputs": [layer.name for layer in layers],
                     "shape": list(np.shape(layers[-1].data)), "options": {k: v for k, v in raw.items() if v},
                     "settings": settings, "content": digest([*(np.asarray(x.data) for x in layers),
                                                                *([] if missing is None else [missing])])}
        done = self._done_slices(name, signature)
        todo = [i for i in range(count) if i not in done]
        if not todo:  # everything was restored with these settings: start again
            done, todo = [], list(range(count))
        options = [parse_options(task, raw, mask_of(known, i)) for i in range(count)]
        images = [[inp.frames[i] for inp in inputs] for i in range(count)]
        self.session = Session(task.name, images, options, settings, todo)
        self._running = Running(name, inputs[-1], layers[-1], tuple(done), signature)
        self.worker = create_worker(self.session.run, _start_thread=False)
        self.worker.returned.connect(self._finished)
        self.worker.errored.connect(self._failed)
        self.restore_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._shown_preview = -1
        what = f"{len(todo)} of {count} slices" if inputs[-1].stacked else "the image"
        self._say(f"fitting {what}...")
        self.worker.start()
        self.timer.start()

    def _done_slices(self, name: str, signature: dict[str, Any]) -> list[int]:
        """The slices a previous Restore with the same settings finished (to continue a stopped stack)."""
        if name not in self.viewer.layers:
            return []
        meta = self.viewer.layers[name].metadata.get("deepprior", {})
        return list(meta.get("done", [])) if meta.get("signature") == signature else []

    def stop(self) -> None:
        """End the running fit at its current image (Stop)."""
        if self.session is not None:
            self.session.stop()
            self._say("stopping at the current iteration...")

    def _poll(self) -> None:
        session = self.session
        if session is None:
            return
        live = session.live
        self.progress.setMaximum(max(live.total, 1))
        self.progress.setValue(min(live.iteration, max(live.total, 1)))
        count = self._running.count if self._running is not None else 1
        where = f"slice {live.slice + 1} of {count}: " if count > 1 else ""
        loss = f", loss {live.loss:.5f}" if live.loss is not None else ""
        if not session.cancel.is_set() and live.tiles is not None:
            self._say(f"{where}tiles: {live.tiles[0]} of {live.tiles[1]} restored (iterations {live.iteration} "
                      f"of at most {live.total})")
        elif not session.cancel.is_set():
            self._say(f"{where}iteration {live.iteration} of at most {live.total}{loss}")
        run = self._running
        if run is not None and live.preview is not None and live.preview_version != self._shown_preview:
            self._shown_preview = live.preview_version
            like = run.like
            data = like.intensity.from_unit(live.preview if like.rgb else live.preview[:, :, 0])
            scale, translate = placement(run.source.scale, run.source.translate, like.height / data.shape[0],
                                         stack=False)
            if PREVIEW in self.viewer.layers:
                layer = self.viewer.layers[PREVIEW]
                layer.data, layer.scale, layer.translate = data, scale, translate
            else:
                self.viewer.add_image(data, name=PREVIEW, rgb=like.rgb, metadata={"deepprior": {"preview": True}},
                                      scale=scale, translate=translate)

    def _finished(self, live: Live) -> None:
        self._poll()
        run = self._running
        self._end()
        if run is None:
            return
        like = run.like
        if not live.finished:
            self._say("stopped before any image was fitted")
            return
        out_shape = next(iter(live.finished.values())).shape[:2]
        name = run.name
        done = list(run.done)
        old = self.viewer.layers[name] if name in self.viewer.layers else None
        frames = [TileCanvas(f, out_shape).pixels for f in like.frames]  # not fitted: the input, enlarged
        data = np.array(layer_data(frames, like))
        if old is not None and done and np.shape(old.data) == data.shape:
            data = np.array(old.data)  # continuing: the slices restored before
        for i, pixels in live.finished.items():
            frame = like.intensity.from_unit(pixels if like.rgb else pixels[:, :, 0])
            if like.stacked:
                data[i] = frame
            else:
                data = frame
            if live.stop_reasons[i] != "interrupted":
                done.append(i)
        meta = {"deepprior": {"signature": run.signature, "done": sorted(set(done)),
                              "stop_reasons": {str(k): v for k, v in live.stop_reasons.items()},
                              "iterations": {str(k): v for k, v in live.iterations.items()}}}
        scale, translate = placement(run.source.scale, run.source.translate, like.height / out_shape[0],
                                     stack=like.stacked)
        if old is not None:
            old.data, old.metadata, old.scale, old.translate = data, meta, scale, translate
        else:
            self.viewer.add_image(data, name=name, rgb=like.rgb, metadata=meta, scale=scale, translate=translate)
        left = [i + 1 for i in range(run.count) if i not in done]
        last = live.stop_reasons[max(live.finished)]
        fitted = ", ".join(f"{live.iterations[i]} iterations ({live.stop_reasons[i]})" for i in sorted(live.finished))
        if left and run.count > 1:
            self._say(f"stopped: {name} holds {len(set(done))} of {run.count} slices restored ({fitted}); Restore "
                      f"continues with slice{'s' if len(left) > 1 else ''} {', '.join(map(str, left))}")
        elif last == "interrupted":
            self._say(f"stopped: {name} holds the image at its current iteration ({fitted})")
        else:
            self._say(f"restored: {name} ({fitted})")

    def _failed(self, exc: BaseException) -> None:
        self._end()
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self._say(text if isinstance(exc, DeepPriorError) else f"the fit failed: {text}", error=True)

    def _end(self) -> None:
        self.timer.stop()
        self.worker = None
        self.restore_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if PREVIEW in self.viewer.layers:
            self.viewer.layers.remove(PREVIEW)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #e05555;" if error else "")


__all__ = ["PREVIEW", "RestoreWidget"]
