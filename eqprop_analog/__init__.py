"""eqprop-analog: train analog resistive networks with Equilibrium Propagation, ngspice in the loop."""

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spec import CircuitSpec, DiodeModel
from eqprop_analog.errors import (
    ConfigError,
    DataError,
    EqpropError,
    LibraryNotFoundError,
    SolverError,
    SpiceError,
)

__all__ = [
    "CircuitSpec",
    "DiodeModel",
    "LayeredNetwork",
    "ConfigError",
    "DataError",
    "EqpropError",
    "LibraryNotFoundError",
    "SolverError",
    "SpiceError",
]
__version__ = "0.1.0"
