"""Newton's method on the circuit's equations (:mod:`.equations`), with a line search.

Each step solves with the block-tridiagonal nodal matrix. A backtracking (Armijo) line search on
the co-content keeps Newton from overshooting on the diodes' exponentials; near the solution it
takes full steps, converges quadratically and stops on the estimated error left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from eqprop_analog.engines.equations import Drive, NativeCircuit, Nudge
from eqprop_analog.errors import ConfigError, SolverError

# The line search: a step is kept once the co-content falls by this share of the linear
# prediction (Armijo's condition); otherwise it is halved, at most HALVINGS times. Energy changes
# below ROUNDING times the energy are rounding noise, not an ascent.
ARMIJO = 1e-4
HALVINGS = 40
ROUNDING = 1e-12
DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class NativeOptions:
    """Newton settings: stop once the error left in every node voltage is estimated below
    ``tolerance`` volts (from the size of the last full Newton steps, see :func:`newton`); the
    dtype of the states."""

    dtype: str = "float64"
    tolerance: float = 1e-9
    max_iterations: int = 100
    line_search_above: float = 0.05  # V: smaller Newton steps are taken whole

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ConfigError(f"native dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not (0 < self.tolerance < 1) or self.max_iterations < 1:
            raise ConfigError("native tolerance must be in (0, 1) V and max_iterations >= 1")


@dataclass(frozen=True)
class Minimum:
    """What a minimiser returns: the per-layer node voltages, the iterations (Newton steps or
    coordinate-descent sweeps) it took and the estimated error left in the voltages (V)."""

    states: list[torch.Tensor]
    iterations: int
    error: float


def newton(circuit: NativeCircuit, cols: list[torch.Tensor], drive: Drive, nudge: Nudge,
           options: NativeOptions) -> Minimum:
    """Steady state of ``circuit`` under ``nudge``, from the starting voltages ``cols``."""
    # Without a negative nudge the co-content is convex and every Newton step goes downhill.
    may_be_nonconvex = nudge.beta is not None and bool((nudge.beta < 0).any())
    previous = math.inf  # the last full step's size
    for iteration in range(1, options.max_iterations + 1):
        lin = circuit.linearize(cols, drive, nudge)
        step, definite = circuit.nodal.solve(lin, lin.residual)
        # A negative nudge can make the energy non-convex (|beta| times the cost's curvature
        # above the output conductance); where the nodal matrix is not positive definite,
        # take a Jacobi step instead, which always goes down.
        convex = not may_be_nonconvex or bool(definite.all())
        if not convex:
            jacobi = [f / d for f, d in zip(lin.residual, lin.diagonals)]
            step = [torch.where(definite[:, None], s, j) for s, j in zip(step, jacobi)]
        size = step[0].abs().amax(dim=1)
        for s in step[1:]:
            size = torch.maximum(size, s.abs().amax(dim=1))
        largest = float(size.max())
        if not math.isfinite(largest):
            raise SolverError("the native Newton iteration diverged (non-finite voltages)")
        if not convex and largest <= options.tolerance:  # a stationary point: nothing to move
            return Minimum([c + s for c, s in zip(cols, step)], iteration, largest)
        if largest > options.line_search_above or not convex:
            t = _step_lengths(circuit, cols, step, drive, nudge, lin.residual)[:, None]
            cols = [torch.addcmul(c, t, s) for c, s in zip(cols, step)]
            previous = math.inf
            continue
        cols = [c + s for c, s in zip(cols, step)]
        # Near the solution the error left after a full step s is about C s^2 (quadratic
        # convergence), C estimated from the last two steps and never below the diodes' own
        # curvature 1/(N Vt): stop once that estimate is within the tolerance.
        contraction = max(largest / previous ** 2, 1.0 / circuit.neurons.vte)
        if largest <= options.tolerance or contraction * largest ** 2 <= options.tolerance:
            return Minimum(cols, iteration, min(largest, contraction * largest ** 2))
        previous = largest
    raise SolverError(f"the native Newton iteration did not converge in "
                      f"{options.max_iterations} iterations (last step {largest:.3g} V)")


def _step_lengths(circuit: NativeCircuit, cols, step, drive, nudge, residual) -> torch.Tensor:
    """Per-sample step lengths 1, 1/2, 1/4 ... until the co-content decreases (Armijo)."""
    e0 = circuit.energy(cols, drive, nudge)
    slope = -sum((f * s).sum(1) for f, s in zip(residual, step))  # directional derivative
    rounding = ROUNDING * e0.abs()
    t = torch.ones(len(e0), dtype=circuit.dtype)
    for _ in range(HALVINGS):
        e1 = circuit.energy([torch.addcmul(c, t[:, None], s) for c, s in zip(cols, step)],
                            drive, nudge)
        bad = ~(e1 <= e0 + ARMIJO * t * slope + rounding)
        if not bad.any():
            break
        t = torch.where(bad, 0.5 * t, t)
    return t
