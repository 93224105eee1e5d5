"""An ngspice session over libngspice, through PySpice's binding, with the memory hygiene it needs.

ngspice keeps global state, so there is one session per process (see :mod:`.worker` for running it in
a child process that may crash without taking the caller down).
"""

from __future__ import annotations

import logging

import numpy as np

from eqprop_analog.errors import LibraryNotFoundError, SpiceError
from eqprop_analog.spice.library import find_library

# ngspice keeps every command in its history; clearing it now and then keeps commands fast.
_HISTORY_CLEAR_EVERY = 500
_FAILURE_WORDS = ("error", "aborted", "too small", "singular")
_ERROR_WORDS = ("error", "fail", "abort", "singular", "too small", "not found", "unknown",
                "can't", "cannot")
# what ngspice >= 42 prints at every analysis when `.options klu` took effect
_KLU_IN_USE = "using klu as direct linear solver"
_KLU_PROBE = "klu probe\nV1 a 0 DC 1\nR1 a 0 1k\n.options klu\n.end"


def _load_pyspice(library_path: str):
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)  # "Unsupported Ngspice version" etc.
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

    class _Shared(NgSpiceShared):
        """NgSpiceShared that records ngspice's messages and its requests to exit."""

        LIBRARY_PATH = library_path
        exit_requested = False

        def send_char(self, message, ngspice_id):  # noqa: D401 - ngspice callback
            return 0

        @staticmethod
        def _exit(exit_status, immediate_unloading, quit_exit, ngspice_id, user_data):
            ffi.from_handle(user_data).exit_requested = True
            return exit_status

    return _Shared, ffi


class NgspiceSession:
    """Loads netlists into libngspice, runs DC sweeps and reads node voltages back as numpy arrays."""

    def __init__(self, library_path: str | None = None) -> None:
        path = library_path or find_library()
        try:
            shared_cls, self._ffi = _load_pyspice(path)
            self._ng = shared_cls(ngspice_id=0, send_data=False)
        except OSError as exc:
            raise LibraryNotFoundError(f"cannot load libngspice from {path}: {exc}") from exc
        self._lib = self._ng._ngspice_shared
        self._loaded = False
        self._commands = 0
        self.library_path = path

    @property
    def version(self) -> int | None:
        return self._ng._ngspice_version

    def has_klu(self) -> bool:
        """Whether this libngspice solves with KLU when asked (``.options klu``): ngspice >= 42
        built with it. Older ones ignore the option silently, so a tiny circuit is solved to see."""
        self.load(_KLU_PROBE)
        try:
            self._command("op", "op")
            return any(_KLU_IN_USE in line.lower() for line in self._ng._stdout + self._ng._stderr)
        finally:
            self._forget()

    @property
    def exit_requested(self) -> bool:
        """True once ngspice asked to quit: the library is then unusable in this process."""
        return self._ng.exit_requested

    def _messages(self) -> str:
        """ngspice's own words about the last command: its errors first, else its last lines."""
        lines = [line.strip() for line in self._ng._stdout + self._ng._stderr if line.strip()]
        errors = [l for l in lines if any(k in l.lower() for k in _ERROR_WORDS)]
        return " | ".join((errors or lines)[-4:])

    def _reported_failure(self) -> bool:
        """Whether ngspice's messages say the last command failed. Its notes and warnings go to
        stderr too ("Note: One successful gmin step") and are no failure."""
        for line in self._ng._stdout + self._ng._stderr:
            text = line.strip().lower()
            if text.startswith(("note:", "warning:")):
                continue
            if any(word in text for word in _FAILURE_WORDS):
                return True
        return False

    def _command(self, command: str, analysis: str) -> None:
        self._commands += 1
        if self._commands % _HISTORY_CLEAR_EVERY == 0:
            self._lib.ngSpice_Command(self._ffi.NULL)
        self._ng.clear_output()
        rc = self._lib.ngSpice_Command(command.encode("ascii"))
        if rc != 0 or self._reported_failure() or self.exit_requested:
            raise SpiceError(f"command {command!r} failed", analysis=analysis,
                             ngspice_output=self._messages())

    def load(self, netlist: str) -> None:
        """Replace the loaded circuit by ``netlist``."""
        if self._loaded:
            self._command("remcirc", "load")  # else each load keeps the old circuit (+1 MB)
            self._loaded = False
        lines = [line for line in netlist.splitlines() if line] + [""]
        keep = [self._ffi.new("char[]", line.encode("utf8")) for line in lines] + [self._ffi.NULL]
        self._ng.clear_output()
        rc = self._lib.ngSpice_Circ(self._ffi.new("char *[]", keep))
        if rc != 0 or self._reported_failure() or self.exit_requested:
            raise SpiceError("the netlist was rejected", analysis="load",
                             ngspice_output=self._messages())
        self._loaded = True

    def dc_sweep(self, source: str, n_points: int, vectors: tuple[str, ...]) -> np.ndarray:
        """Sweep ``source`` over 0, 1, ..., n_points - 1; return the vectors, shape (n_points, n)."""
        try:
            self._command(f"dc {source.lower()} 0 {n_points - 1} 1", "dc")
            values = self._read(tuple(vectors), "dc")
            if len(values) != n_points:
                raise SpiceError(f"the sweep stopped after {len(values)} of {n_points} points",
                                 analysis="dc", ngspice_output=self._messages())
            return values
        finally:
            self._forget()

    def transient(self, step: float, stop: float, vectors: tuple[str, ...]) -> np.ndarray:
        """A transient from the operating point to ``stop`` seconds, time steps at most ``step``;
        return the time and the vectors at every time point ngspice took, shape (n_times, 1 + n)."""
        try:
            longest, end = repr(float(step)), repr(float(stop))  # shortest exact text
            self._command(f"tran {longest} {end} 0 {longest}", "tran")
            return self._read(("time",) + tuple(vectors), "tran")
        finally:
            self._forget()

    def _read(self, vectors: tuple[str, ...], analysis: str) -> np.ndarray:
        """The current plot's vectors as the columns of one array."""
        plot = self._ffi.string(self._lib.ngSpice_CurPlot()).decode()
        columns = []
        for name in vectors:
            info = self._lib.ngGet_Vec_Info(f"{plot}.{name.lower()}".encode())
            if info == self._ffi.NULL or info.v_realdata == self._ffi.NULL:
                raise SpiceError(f"no vector {name!r} after the analysis", analysis=analysis,
                                 ngspice_output=self._messages())
            # views of ngspice's memory: np.stack below copies them before "destroy all"
            columns.append(np.frombuffer(self._ffi.buffer(info.v_realdata, info.v_length * 8),
                                         dtype=np.float64))
        if len({len(c) for c in columns}) != 1:
            raise SpiceError("the analysis returned vectors of different lengths",
                             analysis=analysis, ngspice_output=self._messages())
        return np.stack(columns, axis=1)

    def _forget(self) -> None:
        if not self.exit_requested:
            # results of earlier runs slow every later command down and hold memory
            self._lib.ngSpice_Command(b"destroy all")
