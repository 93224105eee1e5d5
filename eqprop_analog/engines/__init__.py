"""Engines solve the circuit's free and nudged steady states; all share one protocol."""

from eqprop_analog.engines.base import Engine, Phases, Solution
from eqprop_analog.engines.nudging import CrossEntropy, SquaredError, make_cost
from eqprop_analog.errors import ConfigError

__all__ = ["Engine", "Phases", "Solution", "SquaredError", "CrossEntropy", "make_cost",
           "make_engine"]


def make_engine(name: str, *, reltol: float = 1e-6, precise: bool = False,
                timeout: float | None = None, workers: int | None = 1,
                matrix_solver: str = "auto", input_crossbar: str = "auto") -> Engine:
    """Engine by name: ``ngspice`` (at ``reltol``, or at tight tolerances for gradient checks with
    ``precise``; ``timeout`` seconds per call, by default from the circuit's size; ``workers``
    processes, None for one per available core; ``matrix_solver`` auto, klu or sparse;
    ``input_crossbar`` auto or full, see :class:`~eqprop_analog.engines.ngspice.SpiceOptions`) or
    ``native`` (Newton to 1e-9 V, float64)."""
    if name == "native":
        from eqprop_analog.engines.native import NativeEngine

        return NativeEngine()
    if name == "ngspice":
        from eqprop_analog.engines.ngspice import NgspiceEngine, SpiceOptions
        from eqprop_analog.threads import available_cores

        processes = available_cores() if workers is None else workers
        if precise:
            options = SpiceOptions(reltol=1e-9, vntol=1e-12, abstol=1e-18, timeout=timeout,
                                   matrix_solver=matrix_solver, input_crossbar=input_crossbar)
        else:
            options = SpiceOptions(reltol=reltol, timeout=timeout, matrix_solver=matrix_solver,
                                   input_crossbar=input_crossbar)
        return NgspiceEngine(options, workers=processes)
    raise ConfigError(f"unknown engine {name!r}; available: ngspice, native")
