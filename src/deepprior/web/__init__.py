"""``deepprior serve``: a local web page over the same restore path as the command line and the API.

Upload an image, pick a task (its form comes from the task registry), draw an inpainting mask, watch the fit
live (progress, preview, curves), stop it, download the result at the input's bit depth. FastAPI and uvicorn
come with the ``web`` extra (``pip install "deepprior[web]"``); the page is package data (vanilla JS).
"""

from __future__ import annotations

from .form import form, parse_options, parse_settings

__all__ = ["form", "parse_options", "parse_settings"]
