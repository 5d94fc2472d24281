"""The package's log: every module logs under the ``deepprior`` logger; the command line decides what is shown.

The library never prints below the command line: the plan and its estimate, a log's progress lines, the
tiles' warnings and the web server's messages go through :mod:`logging` under ``deepprior.*``. A program
that uses the API sees the warnings (Python's default) and configures the rest as it configures any
library's log. Every ``deepprior`` command shows the log on standard error from ``info`` up, or from the
level its ``--log-level`` (``-v``: ``debug``; ``-q``: ``error``) gives: from ``info`` up each line is the message
alone, warnings and errors prefixed by their level; at ``debug`` each line also starts with the time, the level
and the module, for a log file (``--log-level debug 2> log.txt``).

Example:
    >>> import logging
    >>> configure("warning")
    >>> logging.getLogger("deepprior").level == logging.WARNING
    True
    >>> configure("info")

"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

#: The package's logger name; modules log under ``deepprior.<module>``.
LOGGER = "deepprior"
#: The levels ``--log-level`` accepts.
LEVELS = ("debug", "info", "warning", "error")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the standard error of the moment (a test runner or a notebook may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # the base class sets it; the current one is always used
        pass


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        level = record.levelname.lower()
        if record.levelno >= logging.WARNING and not message.startswith(level):
            message = f"{level}: {message}"
        return message


class _DebugFormat(logging.Formatter):
    """``14:02:07.312 DEBUG   batch.worker: message``: the time, the level and the module under ``deepprior``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)-7s %(module_name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record.module_name = record.name.removeprefix(LOGGER + ".")
        return super().format(record)


def configure(level: str | int = "info") -> None:
    """Show the package's log on standard error from ``level`` up (one handler, replaced at each call)."""
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    handler.setFormatter(_DebugFormat() if logger.level <= logging.DEBUG else _Format())
    logger.addHandler(handler)


__all__ = ["LEVELS", "LOGGER", "configure"]
