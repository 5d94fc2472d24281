"""Put ``benchmarks/`` on ``sys.path``, so that a study run as ``python benchmarks/studies/NAME.py`` imports the
helpers that the product scripts use (``common``, ``docgen``) as they do.

Python puts a script's own folder first on ``sys.path`` (here ``benchmarks/studies/``, where this module lies), so a
study's first import, ``import _path``, finds it; the folder above is added after it.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = str(Path(__file__).resolve().parents[1])
if BENCHMARKS not in sys.path:
    sys.path.insert(1, BENCHMARKS)
