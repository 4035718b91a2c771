"""Stable randomness: seeded generators and counter-based noise that never touch Python's salted hash().

`rng_for(...)` gives a `random.Random` seeded from a text key (Python seeds str keys through SHA-512, so the
stream is identical across processes and machines). `noise(...)` is a splitmix64 hash of integers, used
where a value must depend only on its coordinates (e.g. a parked fix at a given second), not on how many
draws happened before it.
"""

from __future__ import annotations

import random

_MASK = (1 << 64) - 1


def rng_for(*parts: object) -> random.Random:
    """A generator determined only by the parts (joined as text)."""
    return random.Random("/".join(str(part) for part in parts))


def splitmix64(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def noise(*keys: int) -> float:
    """A uniform float in [0, 1) that depends only on the integer keys."""
    return noise_from(0, *keys)


def noise_state(*keys: int, state: int = 0) -> int:
    """The state `noise` reaches after these leading keys (following on from `state`, the state of earlier
    leading keys), for `noise_from`: per-device keys hashed once."""
    for key in keys:
        state = splitmix64(state ^ (key & _MASK))
    return state


def noise_from(state: int, *keys: int) -> float:
    """`noise(*leading, *keys)` given `noise_state(*leading)`: the same float."""
    return (noise_state(*keys, state=state) >> 11) / float(1 << 53)


def noise_pair(*keys: int) -> tuple[float, float]:
    """Two independent uniforms in [0, 1) for the same keys: `noise(*keys, 1), noise(*keys, 2)`."""
    state = noise_state(*keys)  # the keys are hashed once for both
    return noise_from(state, 1), noise_from(state, 2)


def quick(*keys: int) -> float:
    """A uniform float in [0, 1) from integer keys, cheaper than `noise` (hot paths that run per sweep).

    Two rounds of a multiply-xorshift mix instead of splitmix64 per key: plenty for sensor jitter.
    """
    state = 0x632BE59BD9B4E019
    for key in keys:
        state = ((state ^ (key & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
        state ^= state >> 29
    state = (state * 0xBF58476D1CE4E5B9) & _MASK
    return ((state ^ (state >> 32)) >> 11) / float(1 << 53)
