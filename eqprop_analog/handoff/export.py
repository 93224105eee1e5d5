"""``eqprop-analog export``: a trained run's hand-off folder for a hardware team.

It holds the netlist (inputs at DC 0), the weight map, a test bench that applies the first N test
samples, the outputs the training engine gives for them (``expected.csv``) and a README.txt. Where
an ``ngspice`` program is installed the bench is run in it at export, and the README says how
closely it reproduced the expected outputs.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config_files import config_to_toml
from eqprop_analog.data import load_dataset
from eqprop_analog.errors import ConfigError
from eqprop_analog.files import atomic_write_text
from eqprop_analog.handoff.bench import (
    OUTPUTS_FILE,
    BenchCheck,
    bench_text,
    ngspice_program,
    output_names,
    run_bench,
)
from eqprop_analog.handoff.dialects import DIALECTS, EXTENSIONS, bench_in, netlist_in
from eqprop_analog.handoff.readme import readme_text
from eqprop_analog.learning.checkpoint import CHECKPOINT, read_checkpoint
from eqprop_analog.options import toml_value
from eqprop_analog.spice.netlist import write_netlist

NETLIST, BENCH, EXPECTED, README = "network.cir", "bench.cir", "expected.csv", "README.txt"
CONFIG = "config.toml"  # the run's own: evaluate reads the folder's netlist with it


@dataclass(frozen=True)
class Handoff:
    """What ``export`` wrote: the folder, its files, the number of samples, and the check of the
    bench (None where no ngspice program was found; ``missing`` then says so)."""

    folder: Path
    files: tuple[str, ...]
    samples: int
    check: BenchCheck | None
    missing: str | None = None


def expected_csv(labels: np.ndarray, outputs: np.ndarray, names: list[str]) -> str:
    """One row per sample: its index, its label, each output signal (V) and the predicted class
    (the largest output)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sample", "label", *names, "predicted"])
    for k, (label, row) in enumerate(zip(labels, outputs)):
        writer.writerow([k, int(label), *map(repr, row.tolist()), int(row.argmax())])
    return buffer.getvalue()


def write_handoff(run_dir: str | os.PathLike, out: str | os.PathLike, *,
                  dialect: str = "ngspice", samples: int = 100, check: bool = True) -> Handoff:
    """Write the hand-off folder ``out`` of the run in ``run_dir`` (its last checkpoint), with
    ``samples`` test samples in the bench; with ``check``, run the bench in ngspice. Another
    ``dialect`` than ngspice adds the netlist and the bench in that dialect (which cannot be
    run here) to the ngspice files."""
    # run imports the trainer, slow to import
    from eqprop_analog.run import check_subcircuits_unchanged, subcircuit_copy, written_config

    if dialect not in DIALECTS:
        raise ConfigError(f"--dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise ConfigError(f"--samples must be an integer >= 1, got {samples!r}")
    run_dir, out = Path(run_dir), Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder")
    if not (run_dir / CHECKPOINT).is_file():
        raise ConfigError(f"{run_dir} holds no trained run (no {CHECKPOINT})")
    config = written_config(run_dir)
    conductances = read_checkpoint(run_dir).conductances
    data = load_dataset(config.dataset, config.seed, config.test_fraction, config.data_dir)
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    check_subcircuits_unchanged(network.spec, run_dir)
    conductances = network.check_conductances(conductances)
    if network.spec.ideal_diodes:
        raise ConfigError("the run's ideal diodes have no SPICE model: there is no netlist to "
                          "hand off")
    layers = "-".join(map(str, network.spec.layers))
    title = f"eqprop-analog {layers} trained on {data.name}"
    n = min(samples, len(data.x_test))
    x, labels = data.x_test[:n], data.y_test[:n]
    translated: dict[str, str] = {}
    if dialect != "ngspice":  # written first: a refusal leaves nothing behind
        translated = {f"network{EXTENSIONS[dialect]}": netlist_in(dialect, network, conductances,
                                                                  title),
                      f"bench{EXTENSIONS[dialect]}": bench_in(
                          dialect, network, conductances, x,
                          f"{title}: test bench of {n} test samples")}
    engine = config.engine_for(precise=True)  # the reference: far below the bench's 1e-6 V
    try:
        expected = network.readout(engine.solve(network, conductances, x).phase(0.0))
        about = {"engine": engine.name, **engine.describe(network)}
    finally:
        engine.close()
    out.mkdir(parents=True, exist_ok=True)
    # an earlier export's, which would not describe this one
    for stale in (README, OUTPUTS_FILE, *(f"{stem}{EXTENSIONS[d]}" for d in DIALECTS
                                           if d != "ngspice" for stem in ("network", "bench"))):
        (out / stale).unlink(missing_ok=True)
    _, weights = write_netlist(out / NETLIST, network, conductances, title=title)
    copies = [subcircuit_copy(model) for model in network.spec.user_subcircuits]
    text = config_to_toml(config)
    for model, copy in zip(network.spec.user_subcircuits, copies):
        # the folder's config names its own copy (taken from the folder), so the folder travels
        option = f"{model.role}_model"
        text = text.replace(f"{option} = {toml_value(getattr(config, option))}\n",
                            f"{option} = {toml_value(f'{copy}:{model.name}')}\n")
    atomic_write_text(out / CONFIG, text)
    for model, copy in zip(network.spec.user_subcircuits, copies):  # what evaluate checks
        atomic_write_text(out / copy, model.text + "\n")
    atomic_write_text(out / BENCH, bench_text(network, conductances, x,
                                              f"{title}: test bench of {n} test samples"))
    atomic_write_text(out / EXPECTED, expected_csv(labels, expected,
                                                   output_names(network.spec.n_outputs)))
    for name, content in translated.items():
        atomic_write_text(out / name, content)
    bench_check, missing = None, None
    if not check:
        missing = "the export was asked not to run it (--no-check)"
    elif ngspice_program() is None:
        missing = "no ngspice program was installed where it was exported"
    else:
        measured, banner = run_bench(out, BENCH, network, n)
        bench_check = BenchCheck(banner, float(np.abs(measured - expected).max()),
                                 bool(np.array_equal(measured.argmax(1), expected.argmax(1))))
    atomic_write_text(out / README, readme_text(network, data.name, n, about, bench_check,
                                                missing, dialect))
    ran = (OUTPUTS_FILE,) if bench_check is not None else ()  # what the bench wrote
    files = (NETLIST, weights.name, BENCH, EXPECTED, CONFIG, *copies, *translated, *ran, README)
    return Handoff(out, files, n, bench_check, missing)
