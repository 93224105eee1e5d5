"""eqprop-analog: train analog resistive networks with Equilibrium Propagation, ngspice in the loop."""

import os as _os

# On small machines multi-threaded BLAS/torch makes the small products here 10-20x slower:
# one thread unless EQPROP_THREADS says otherwise.
THREADS = int(_os.environ.get("EQPROP_THREADS", "1"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, str(THREADS))
try:  # numpy may have been imported (and its BLAS started) before this package
    from threadpoolctl import threadpool_limits as _threadpool_limits

    _threadpool_limits(THREADS)
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
    pass

from eqprop_analog.circuit.spec import CircuitSpec, DiodeModel  # noqa: E402
from eqprop_analog.circuit.layered import LayeredNetwork  # noqa: E402
from eqprop_analog.errors import (  # noqa: E402
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
