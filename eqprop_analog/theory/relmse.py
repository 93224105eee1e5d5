"""How close two processes are: the relative mean squared error of the seeds.

RelMSE (thesis part IV, eq. 2.14; seed 000 section 4.1) compares two processes f(t), g(t) over K
time steps element by element of a layer:

    RelMSE(f, g) = < ||f - g||_{2,K} / max(||f||_{2,K}, ||g||_{2,K}) >_layer,
    ||f||_{2,K} = sqrt(1/K sum_t f(t)^2),

the processes being averaged over the mini-batch first. Unlike a cosine it is zero only where the
two processes are equal, not merely proportional.
"""

from __future__ import annotations

import numpy as np


def relmse(f: np.ndarray, g: np.ndarray) -> float:
    """RelMSE of processes of shape (K, *element_shape), time first. Elements where both
    processes are zero at every step carry no signal and are left out of the average (a neuron
    that never moves, as the seed's saturated ones); if every element is such, the result is 0."""
    f = np.asarray(f, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if f.shape != g.shape or f.ndim < 1:
        raise ValueError(f"processes must have the same shape (time first), got {f.shape} and "
                         f"{g.shape}")
    distance = np.sqrt(np.mean((f - g) ** 2, axis=0))
    scale = np.maximum(np.sqrt(np.mean(f ** 2, axis=0)), np.sqrt(np.mean(g ** 2, axis=0)))
    moving = scale > 0
    if not moving.any():
        return 0.0
    return float(np.mean(distance[moving] / scale[moving]))
