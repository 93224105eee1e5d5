"""eqprop-analog: train analog resistive networks with Equilibrium Propagation, ngspice in the loop."""

import os as _os

# On small machines multi-threaded BLAS/torch makes the small products here 10-20x slower.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

from eqprop_analog.circuit.spec import CircuitSpec, DiodeModel  # noqa: E402
from eqprop_analog.circuit.layered import LayeredNetwork  # noqa: E402
from eqprop_analog.errors import (  # noqa: E402
    ConfigError,
    DataError,
    EqpropError,
    LibraryNotFoundError,
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
    "SpiceError",
]
__version__ = "0.1.0"
