"""Exceptions raised at the boundaries of eqprop-analog.

Every error a user can cause or meet derives from :class:`EqpropError`; the CLI prints its message on
one line and exits non-zero instead of showing a traceback.
"""


class EqpropError(Exception):
    """Base class of the errors that the CLI reports as one line."""


class ConfigError(EqpropError, ValueError):
    """An option, a config file or a command-line flag has an invalid value."""


class DataError(EqpropError, ValueError):
    """Input data cannot be used (wrong width, NaN, unknown dataset)."""


class TopologyError(DataError):
    """A circuit whose nets are not all tied to ground by DC paths, or that has a dangling net."""


class LibraryNotFoundError(EqpropError, OSError):
    """The ngspice shared library could not be found or loaded."""


class SolverError(EqpropError, RuntimeError):
    """A steady state could not be computed (by ngspice or by the native solver)."""


class SpiceError(SolverError):
    """ngspice failed: a convergence failure, a netlist error, or a crash of its process."""

    def __init__(self, message: str, *, analysis: str = "", batch: int | None = None,
                 ngspice_output: str = "", lost_process: bool = False) -> None:
        self.reason = message
        self.lost_process = lost_process  # the process crashed or hung and was replaced
        self.analysis = analysis
        self.batch = batch
        self.ngspice_output = ngspice_output
        where = []
        if analysis:
            where.append(f"analysis {analysis!r}")
        if batch is not None:
            where.append(f"batch {batch}")
        prefix = f"ngspice failed ({', '.join(where)}): " if where else "ngspice failed: "
        detail = f" [ngspice: {ngspice_output}]" if ngspice_output else ""
        super().__init__(prefix + message + detail)


class EngineMismatchError(EqpropError, RuntimeError):
    """Two engines solved the same circuit to states further apart than a run allows."""
