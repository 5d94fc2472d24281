"""The napari plugin (``deepprior[napari]``): restore the image layer in front of you, in napari.

Its dock widget (:mod:`.widget`) is built from the task registry, like the command line and the web page; the
fit runs the same :func:`~deepprior.restore.restore` in a worker thread (:mod:`.session`), and the layers are
turned into the task's images and masks and back by :mod:`.layers`, which needs no Qt. The manifest
(``napari.yaml``) declares the widget and the sample data (:mod:`.samples`) to napari's plugin engine (npe2).
"""
