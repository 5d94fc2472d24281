"""Quantities written for people: durations in the unit a reader thinks in.

Example:
    >>> duration(42), duration(600), duration(3 * 3600)
    ('42 s', '10 min', '3.0 h')

"""

from __future__ import annotations


def duration(seconds: float) -> str:
    """A duration for people: seconds under a minute and a half, minutes under an hour and a half, else hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


__all__ = ["duration"]
