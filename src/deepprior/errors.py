"""Errors that deepprior raises for bad input: each names the bad value and what was expected."""

from __future__ import annotations


class DeepPriorError(Exception):
    """Base class of every error deepprior raises on purpose; the CLI prints it as one line."""


class InputError(DeepPriorError, ValueError):
    """A file, image, mask or option that cannot be used as given."""


class ConfigError(DeepPriorError, ValueError):
    """An unknown name or an out-of-range setting."""
