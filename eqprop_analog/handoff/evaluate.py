"""``eqprop-analog evaluate``: accuracy and cost of a trained network as it stands now.

What is evaluated: a run folder (its last checkpoint), a netlist the tool wrote and someone edited
(beside the config.toml of its run or export folder), or either with the conductances of a CSV
of measured values. A netlist is read as data: its crossbar conductances are taken, and every
other statement must be the one the config's circuit has; anything else is a one-line error
naming the line, since a changed diode or source would not be evaluated. Each sample's static
power, group by group, can be written as a CSV (:func:`power_csv`).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from eqprop_analog.analysis.inference import InferenceProfile
from eqprop_analog.analysis.settling import simulated_settling
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spice_data import statements
from eqprop_analog.data import load_dataset
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.files import read_user_text
from eqprop_analog.learning.checkpoint import CHECKPOINT, read_checkpoint
from eqprop_analog.learning.trainer import EVAL_BATCH
from eqprop_analog.spice.netlist import netlist_text
from eqprop_analog.spice.readback import read_conductances, read_weight_map

MAX_NETLIST_BYTES = 200_000_000


@dataclass(frozen=True)
class Evaluation:
    """The network's outputs on the first ``samples`` test samples, their labels, the accuracy
    and the mean cost, where the conductances came from, and what the free states show
    (:class:`~eqprop_analog.analysis.inference.InferenceProfile`: confusion, voltage ranges,
    static power)."""

    source: str
    dataset: str
    engine: dict[str, object]
    labels: np.ndarray
    outputs: np.ndarray
    accuracy: float
    loss: float
    inference: dict[str, object]  # InferenceProfile.summary: confusion, voltages, power
    sample_power: dict[str, np.ndarray]  # InferenceProfile.sample_power: each sample's (W)
    settling: dict[str, Any] | None = None  # settling_summary of the first samples

    @property
    def supplied_power(self) -> float:
        """The mean static power per inference that the sources deliver (W)."""
        power = self.inference["static_power_w"]
        assert isinstance(power, dict)
        return float(power["supplied"])

    def summary(self) -> dict[str, object]:
        return {"source": self.source, "dataset": self.dataset, **self.engine,
                "samples": len(self.labels), "accuracy": self.accuracy, "loss": self.loss,
                "inference": self.inference,
                **({"settling": self.settling} if self.settling is not None else {})}


def power_csv(evaluation: Evaluation) -> str:
    """One row per sample: its index, its label, its predicted class, and the absorbed power of
    each element group, what the sources supply and the Tellegen imbalance, in watts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    power = evaluation.sample_power
    writer.writerow(["sample", "label", "predicted", *(f"{g}_w".replace(" ", "_") for g in power)])
    predicted = evaluation.outputs.argmax(axis=1)
    for k, label in enumerate(evaluation.labels):
        writer.writerow([k, int(label), int(predicted[k]), *(repr(float(w[k]))
                                                            for w in power.values())])
    return buffer.getvalue()


def _crossbar_device(words: list[str]) -> bool:
    return words[0].upper().startswith("R_L")


def check_same_circuit(text: str, reference: str, where: str) -> None:
    """Refuse netlist ``text`` where a statement other than a crossbar device's value differs
    from the ``reference`` netlist of the config's circuit (``.options`` aside): the first such
    line is named."""
    def comparable(source: str, path: str) -> list[tuple[int, str, str]]:
        """(line, what must agree, the statement) of every statement but .options and .end;
        of a crossbar device all but its value (a parameter after it would change it)."""
        out = []
        for number, statement in statements(source, path, title=True):
            words = statement.split()
            if words[0].lower() in (".options", ".option", ".end"):
                continue
            key = " ".join(words[:3] + words[4:] if _crossbar_device(words) else words).upper()
            out.append((number, key, statement))
        return out

    theirs, ours = comparable(text, where), comparable(reference, "the config's circuit")
    for (number, key, statement), (_, expected, wanted) in zip(theirs, ours):
        if key != expected:
            raise DataError(f"{where} line {number}: {statement!r} is not the config's circuit, "
                            f"which has {wanted!r} there; evaluate takes a netlist's crossbar "
                            "conductances only")
    if len(theirs) != len(ours):
        extra = theirs[len(ours)] if len(theirs) > len(ours) else None
        raise DataError(f"{where} line {extra[0]}: a statement the config's circuit does not "
                        "have" if extra else f"{where} lacks {len(ours) - len(theirs)} "
                        "statements of the config's circuit")


def evaluate(path: str | os.PathLike, *, dataset: str | None = None,
             conductances: str | os.PathLike | None = None, samples: int | None = None,
             engine: str | None = None, settling: int = 0) -> Evaluation:
    """Evaluate the network at ``path`` (a run or export folder, or a netlist in one) on the
    first ``samples`` test samples (all by default) of ``dataset`` (default the run's) with
    ``engine`` (default the run's); ``conductances``: a CSV of element, conductance that
    replaces the folder's or the netlist's values. ``settling``: simulate the inference of the
    first that many of them in time in ngspice, with the config's node capacitance on every free
    node, for their settling time and energy."""
    # run imports the trainer, slow to import
    from eqprop_analog.run import CONFIG_FILE, check_subcircuits_unchanged, written_config

    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool)
                                or samples < 1):
        raise ConfigError(f"--samples must be an integer >= 1, got {samples!r}")
    if not isinstance(settling, int) or isinstance(settling, bool) or settling < 0:
        raise ConfigError(f"--settling must be an integer >= 0, got {settling!r}")
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} does not exist; give a run folder or a netlist in one")
    folder = path if path.is_dir() else path.parent
    if not (folder / CONFIG_FILE).is_file():
        where = "is no run or export folder" if path.is_dir() else "is not in a run or export folder"
        raise ConfigError(f"{path} {where} (no {CONFIG_FILE} {'in' if path.is_dir() else 'beside'} "
                          "it); give a run folder or a netlist in one")
    config = written_config(folder)
    if dataset is not None:
        config = replace(config, dataset=dataset)
    data = load_dataset(config.dataset, config.seed, config.test_fraction, config.data_dir)
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    check_subcircuits_unchanged(network.spec, folder)
    if conductances is not None:
        g, source = read_weight_map(conductances, network), str(conductances)
    elif path.is_dir():
        if not (path / CHECKPOINT).is_file():
            raise ConfigError(f"{path} has no {CHECKPOINT}; give its netlist or --conductances")
        g, source = read_checkpoint(path).conductances, str(path / CHECKPOINT)
    else:
        if path.suffix == ".scs" or path.name.endswith(".xyce.cir"):
            raise ConfigError(f"{path}: evaluate reads the ngspice netlist (network.cir); for "
                              "a Xyce or Spectre netlist give its conductances as a CSV "
                              "(--conductances FILE.csv, the columns of network.weights.csv)")
        if path.stat().st_size > MAX_NETLIST_BYTES:
            raise DataError(f"netlist {path} is larger than {MAX_NETLIST_BYTES} bytes")
        text = read_user_text(path, "netlist", DataError)
        g, source = read_conductances(text, network), str(path)
        check_same_circuit(text, netlist_text(network, g), str(path))
    g = network.check_conductances(g)
    n = len(data.x_test) if samples is None else min(samples, len(data.x_test))
    x, labels = data.x_test[:n], data.y_test[:n]
    solver = config.engine_for(engine)
    gathered, outputs = InferenceProfile(network, data.n_classes), []
    try:
        for i in range(0, n, EVAL_BATCH):
            batch = slice(i, i + EVAL_BATCH)
            free = solver.solve(network, g, x[batch]).phase(0.0)
            outputs.append(network.readout(free))
            gathered.add(g, x[batch], labels[batch], free)
        about = {"engine": solver.name, **solver.describe(network)}
    finally:
        solver.close()
    out = np.concatenate(outputs)
    cost = config.cost_model()
    loss = float(np.mean(cost.value(out, cost.targets(labels, data.n_classes))))
    accuracy = float(np.mean(out.argmax(axis=1) == labels))
    timed = None
    if settling:
        if network.spec.ideal_diodes:
            raise ConfigError("--settling simulates the circuit in ngspice: ideal diodes have no "
                              "SPICE model")
        timed = simulated_settling(network, g, x[:settling], out[:settling],
                                   config.node_capacitance)
    return Evaluation(source, data.name, about, labels, out, accuracy, loss, gathered.summary(),
                      gathered.sample_power(), timed)
