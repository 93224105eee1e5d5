"""ngspice in a child process, so that a crash or a fatal error of ngspice never ends the caller.

The child owns one :class:`~eqprop_analog.spice.session.NgspiceSession`. If it dies, the call that
was running raises :class:`SpiceError` and the next call starts a fresh child.

The child starts isolated: Python in isolated mode (no current folder, user site or PYTHON*
variables on its path; it imports the very package copy that started it), and ngspice in a private
empty folder that is also its HOME, so no ``.spiceinit`` of the user or of the working folder is read.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

import numpy as np

from eqprop_analog.errors import EqpropError, LibraryNotFoundError, SpiceError
from eqprop_analog.spice.library import find_library

# The folder that holds the eqprop_analog package, installed (site-packages) or not (a checkout).
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
# The child's entry point: isolated mode drops the current folder from sys.path, so the package's
# folder is put first explicitly and the child runs the same code as its parent.
_CHILD_MAIN = ("import sys; sys.path.insert(0, sys.argv[1]); "
               "from eqprop_analog.spice.worker import main; main(sys.argv[2:])")


def _serve(conn: Connection, library_path: str) -> None:
    # Ctrl-C reaches the whole process group; the parent decides what an interrupt means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from eqprop_analog.spice.session import NgspiceSession

    try:
        session = NgspiceSession(library_path)
    except EqpropError as exc:
        conn.send(("fatal", type(exc).__name__, str(exc)))
        return
    try:
        klu = session.has_klu()
    except SpiceError:  # a library that trips over the probe solves with its sparse solver
        klu = False
    conn.send(("ready", session.version, klu))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        analysis, netlist, arguments = request
        reply: tuple
        try:
            if analysis not in ("dc", "tran"):
                raise ValueError(f"unknown analysis {analysis!r}")
            session.load(netlist)
            reply = ("ok", session.dc_sweep(*arguments) if analysis == "dc"
                     else session.transient(*arguments))
        except SpiceError as exc:
            reply = ("error", exc.reason, exc.ngspice_output)
        except Exception as exc:  # a bug on our side: report it in one line, keep serving
            where = traceback.extract_tb(exc.__traceback__)[-1]
            reply = ("error", f"{type(exc).__name__}: {exc}",
                     f"at {Path(where.filename).name}:{where.lineno}")
        conn.send(reply + (session.exit_requested,))
        if session.exit_requested:
            return  # libngspice cannot be used again in this process


class NgspiceProcess:
    """Runs DC sweeps and transients in a child process that holds the only ngspice of that process.

    The child is a plain Python process talking over a socket pair, not a multiprocessing spawn, so
    user scripts need no ``if __name__ == "__main__"`` guard."""

    def __init__(self, library_path: str | None = None, timeout: float = 120.0) -> None:
        self.library_path = library_path or find_library()
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._stderr: IO[bytes] | None = None
        self._home: tempfile.TemporaryDirectory | None = None
        self.version: int | None = None  # the library's, known once the child has started
        self.klu: bool | None = None  # whether the library has the KLU matrix solver

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()
        self._home = tempfile.TemporaryDirectory(prefix="eqprop-ngspice-")
        env = {**os.environ, "HOME": self._home.name}  # no ~/.spiceinit either
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD_MAIN, _PACKAGE_PARENT, str(theirs.fileno()),
             self.library_path],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, env=env, cwd=self._home.name)
        theirs.close()
        self._conn = Connection(ours.detach())
        reply = self._receive("start")
        if reply[0] == "fatal":
            self.close()
            if reply[1] == "LibraryNotFoundError":
                raise LibraryNotFoundError(reply[2])
            raise SpiceError(reply[2], analysis="start")
        self.version, self.klu = reply[1], reply[2]

    def library(self) -> tuple[int | None, bool]:
        """The version of libngspice (None where it does not say) and whether it has KLU; starts
        the child process if it is not running."""
        if self._process is None or self._process.poll() is not None:
            self.close()
            self._start()
        return self.version, bool(self.klu)

    def _child_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:])

    def _receive(self, analysis: str, batch: int | None = None, timeout: float | None = None):
        conn, process = self._conn, self._process
        assert conn is not None and process is not None, "the child was started before"
        timeout = self.timeout if timeout is None else timeout
        try:
            if not conn.poll(timeout):
                # hung (stopped, deadlocked or far too slow): killed, a new one starts next time
                process.kill()
                self.close()
                raise SpiceError(f"no answer within {round(timeout, 1):g} s; the ngspice process "
                                 "was killed and will be restarted", analysis=analysis,
                                 batch=batch, lost_process=True)
            return conn.recv()
        except (EOFError, OSError, ConnectionError):
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            output = self._child_stderr()
            self.close()
            raise SpiceError(f"the ngspice process died (exit code {code})", analysis=analysis,
                             batch=batch, ngspice_output=output, lost_process=True) from None

    def dc_sweep(self, netlist: str, source: str, n_points: int, vectors: tuple[str, ...], *,
                 batch: int | None = None, timeout: float | None = None) -> np.ndarray:
        """Load ``netlist``, sweep ``source`` over 0..n_points-1 and return the vectors, shape
        (n_points, len(vectors)); wait ``timeout`` seconds for the answer (default: the process's
        own) before killing the process."""
        return self._run("dc", netlist, (source, n_points, tuple(vectors)), batch, timeout)

    def transient(self, netlist: str, step: float, stop: float, vectors: tuple[str, ...], *,
                  timeout: float | None = None) -> np.ndarray:
        """Load ``netlist`` and run a transient to ``stop`` seconds (steps at most ``step``);
        return the time and the vectors at ngspice's time points, shape (n_times, 1 + n)."""
        return self._run("tran", netlist, (float(step), float(stop), tuple(vectors)), None,
                         timeout)

    def _run(self, analysis: str, netlist: str, arguments: tuple, batch: int | None,
             timeout: float | None) -> np.ndarray:
        self.library()  # starts the child if needed
        assert self._conn is not None
        try:
            self._conn.send((analysis, netlist, arguments))
            reply = self._receive(analysis, batch, timeout)
        except (OSError, ConnectionError):
            self.close()
            raise SpiceError("the ngspice process died", analysis=analysis, batch=batch,
                             lost_process=True) from None
        except BaseException:
            # interrupted mid-request: the child's late answer must never be read as the next one
            self.close()
            raise
        if reply[-1]:  # ngspice asked to exit: the child has quit
            self.close()
        if reply[0] == "ok":
            return reply[1]
        raise SpiceError(reply[1], analysis=analysis, batch=batch, ngspice_output=reply[2])

    def close(self) -> None:
        """Stop the child process (a later call starts a new one)."""
        if self._conn is not None:
            try:
                self._conn.send(None)
            except (OSError, ConnectionError):
                pass
            self._conn.close()
            self._conn = None
        if self._process is not None:
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._home is not None:
            self._home.cleanup()
            self._home = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> NgspiceProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def main(argv: list[str]) -> None:
    """The child's entry point: ``argv`` is the socket's file descriptor and libngspice's path."""
    _serve(Connection(int(argv[0])), argv[1])
