"""An ngspice test bench of a trained network: the netlist with every device, its inputs driven by
N test samples through one DC sweep, and a ``.control`` block that writes each sample's output
signals to a text file; and the reader of that file.

The inputs are behavioural sources ``V = pwl(V(sweep), ...)`` indexed by a swept dummy source, as
in the ngspice engine, so the bench needs nothing but the stand-alone ``ngspice -b``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.layered import GROUND, LayeredNetwork
from eqprop_analog.engines.ngspice import SWEEP_NET, SWEEP_SOURCE, input_sources, output_signals
from eqprop_analog.errors import DataError, SpiceError
from eqprop_analog.files import read_user_text
from eqprop_analog.spice.netlist import netlist_text

OUTPUTS_FILE = "outputs.txt"  # what the bench writes, in the folder ngspice runs in
# tight enough that the bench's own error stays far below the 1e-6 V it is checked to
BENCH_OPTIONS = {"reltol": 1e-9, "vntol": 1e-12, "abstol": 1e-18}


@dataclass(frozen=True)
class BenchCheck:
    """A bench run in a simulator: its name and version, the largest difference of its outputs
    from the expected ones (V) and whether every sample's predicted class agreed."""

    simulator: str
    largest_difference: float
    same_classes: bool


def output_names(n_outputs: int) -> list[str]:
    """The name of each output signal in a bench and its CSV files: ``y0``, ``y1``, ... (class k
    is ``y<k>``)."""
    return [f"y{k}" for k in range(n_outputs)]


def bench_text(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
               features: np.ndarray, title: str) -> str:
    """The test bench of ``network`` at ``conductances`` for the samples ``features``."""
    x = network.check_features(features)
    names = output_names(network.spec.n_outputs)
    # one sweep column, a header of names, 17 significant digits
    analysis = [".control", "set wr_singlescale", "set wr_vecnames", "option numdgt=16",
                f"dc {SWEEP_SOURCE} 0 {len(x) - 1} 1"]
    analysis += [f"let {name} = {signal}" for name, signal in zip(names, output_signals(network))]
    analysis += [f"wrdata {OUTPUTS_FILE} {' '.join(names)}", ".endc"]
    stimulus = [f"* sample k is the sweep point V({SWEEP_NET}) = k",
                f"{SWEEP_SOURCE} {SWEEP_NET} {GROUND} DC 0", *input_sources(network, x)]
    return netlist_text(network, conductances, title=title, stimulus=stimulus,
                        options=BENCH_OPTIONS, analysis=analysis)


def read_outputs(path: str | os.PathLike, network: LayeredNetwork, n_samples: int) -> np.ndarray:
    """(samples, outputs) from the file the bench wrote; a file of another shape is a
    DataError."""
    text = read_user_text(Path(path), "bench output", DataError)
    lines = text.strip().splitlines()
    expected = ["v-sweep", *output_names(network.spec.n_outputs)]
    if not lines or lines[0].split() != expected:
        raise DataError(f"{path}: the header is not {' '.join(expected)}")
    try:
        table = np.array([[float(v) for v in line.split()] for line in lines[1:]])
    except ValueError as exc:
        raise DataError(f"{path}: a value is not a number ({exc})") from None
    if table.shape != (n_samples, len(expected)) or \
            not np.array_equal(table[:, 0], np.arange(n_samples)):
        raise DataError(f"{path}: expected {n_samples} rows of sweep points 0..{n_samples - 1}, "
                        f"got {table.shape[0]}")
    return table[:, 1:]


def ngspice_program() -> str | None:
    """The stand-alone ngspice on PATH, or None."""
    return shutil.which("ngspice")


def run_bench(folder: Path, bench: str, network: LayeredNetwork, n_samples: int,
              timeout: float = 600.0) -> tuple[np.ndarray, str]:
    """Run ``bench`` in ``folder`` with the stand-alone ``ngspice -b`` (no .spiceinit read) and
    return its outputs and ngspice's name and version (``ngspice-46``); a SpiceError when
    ngspice is missing or fails."""
    binary = ngspice_program()
    if binary is None:
        raise SpiceError("no ngspice program on PATH (Debian: apt-get install ngspice)")
    (folder / OUTPUTS_FILE).unlink(missing_ok=True)  # an earlier run's must not be read
    try:
        done = subprocess.run([binary, "-n", "-b", bench], cwd=folder, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SpiceError(f"ngspice -b {bench} took more than {timeout:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise SpiceError(f"ngspice -b {bench} failed (exit status {done.returncode}): {last}")
    version = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL).stdout
    banner = next((line.strip("* ").split(" :")[0] for line in version.splitlines()
                   if "ngspice-" in line), "ngspice")
    try:
        return read_outputs(folder / OUTPUTS_FILE, network, n_samples), banner
    except DataError as exc:
        raise SpiceError(f"ngspice -b {bench} wrote no complete output: {exc}") from None
