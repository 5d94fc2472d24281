"""The widget's fields, built from a task's :class:`~deepprior.tasks.Option` definitions (Qt widgets)."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QComboBox, QLineEdit, QWidget

from ..tasks import Option


def tooltip(option: Option) -> str:
    """The option's help, its default and its command-line flag."""
    default = "" if option.default is None else f" Default: {option.default}."
    return f"{option.help}{default} (command line: {option.flag})"


def option_field(option: Option) -> QWidget:
    """A task option's field: a list for choices and switches (first: the default), a layer list for a mask,
    a line for numbers and text (empty: the default; its placeholder says which).
    """
    if option.kind == "choice":
        box = QComboBox()
        box.addItem(f"default ({option.default})" if option.default is not None else "default", "")
        for choice in option.choices:
            box.addItem(choice, choice)
        return box
    if option.kind == "switch":
        box = QComboBox()
        default = {True: "on", False: "off"}.get(option.default, "the task's")
        box.addItem(f"default ({default})", "")
        box.addItem("on", "true")
        box.addItem("off", "false")
        return box
    if option.kind == "path":  # a mask: a Labels or Shapes layer
        return QComboBox()
    edit = QLineEdit()
    edit.setPlaceholderText("optional" if option.default is None else f"default: {option.default}")
    return edit


def layer_kind(layer: Any) -> str:
    """A layer's type by name (``Image``, ``Labels``, ``Shapes``): napari hands plugins proxies of its layers,
    whose ``type()`` is the proxy's; ``__class__`` is the layer's.
    """
    return str(layer.__class__.__name__)


def fill(box: QComboBox, names: list[str], *, none: bool) -> None:
    """Offer ``names`` in ``box`` (``none``: first "(none)"), keeping the current choice when it is still there."""
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    if none:
        box.addItem("(none)", "")
    for name in names:
        box.addItem(name, name)
    if current in names:
        box.setCurrentText(current)
    box.blockSignals(False)


__all__ = ["fill", "layer_kind", "option_field", "tooltip"]
