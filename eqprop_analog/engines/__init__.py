"""Engines solve the circuit's free and nudged steady states; all share one protocol."""

from eqprop_analog.engines.base import Engine, Phases, Solution
from eqprop_analog.engines.nudging import CrossEntropy, SquaredError, make_cost
from eqprop_analog.errors import ConfigError

__all__ = ["Engine", "Phases", "Solution", "SquaredError", "CrossEntropy", "make_cost",
           "make_engine"]


def make_engine(name: str, **options) -> Engine:
    """Engine by name (``ngspice``); ``options`` are its settings (e.g. ``reltol``)."""
    if name == "ngspice":
        from eqprop_analog.engines.ngspice import NgspiceEngine, SpiceOptions

        try:
            settings = SpiceOptions(**options)
        except TypeError as exc:
            raise ConfigError(f"invalid ngspice option: {exc}") from None
        return NgspiceEngine(settings)
    raise ConfigError(f"unknown engine {name!r}; available: ngspice")
