"""From a user's seed to the seed of PyTorch's generators.

PyTorch's CPU generator (a Mersenne Twister) keeps only the low 32 bits of its seed, so seeds ``s`` and
``s + 2**32`` would give the same network, input and perturbations. :func:`generator_seed` leaves the seeds
below ``2**32`` as they are (so earlier results reproduce) and mixes larger ones (SplitMix64), so that the
bits above 32 change the low ones too. The CPU generator has ``2**32`` states, so two seeds of the
documented range ``0 .. 2**63 - 1`` can still meet, by chance, as two hashes can; never in a pattern.
"""

from __future__ import annotations

_MASK64 = 2**64 - 1


def splitmix64(value: int) -> int:
    """One step of SplitMix64 (Steele, Lea and Flood 2014): a bijection of 64-bit integers that mixes every bit."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def generator_seed(seed: int) -> int:
    """The seed to give ``torch.manual_seed`` / ``torch.Generator.manual_seed`` for a user's ``seed``.

    Example:
        >>> generator_seed(7), generator_seed(7 + 2**32) % 2**32 != 7
        (7, True)

    """
    seed = int(seed)
    if 0 <= seed < 2**32:
        return seed
    return splitmix64(seed & _MASK64)


__all__ = ["generator_seed", "splitmix64"]
