"""A training run wired from a config: data, circuit, engine, cost, estimator, device and options
for the trainer; the run folder's config.toml; resume; the exported results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from eqprop_analog.analysis.inference import profile
from eqprop_analog.analysis.settling import simulated_settling
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.size import BYTES_PER_CONDUCTANCE, check_fits
from eqprop_analog.circuit.spec import CircuitSpec
from eqprop_analog.circuit.subcircuit import UserSubcircuit
from eqprop_analog.config import OPTIONS, RunConfig
from eqprop_analog.config_files import config_from_mapping, config_to_toml, read_toml
from eqprop_analog.config_paths import paths_from_folder
from eqprop_analog.data import Dataset, load_dataset
from eqprop_analog.engines import Engine
from eqprop_analog.errors import ConfigError, DataError, EqpropError
from eqprop_analog.files import atomic_write_text, read_user_text
from eqprop_analog.learning.checkpoint import CHECKPOINT, read_checkpoint
from eqprop_analog.learning.engine_check import EngineCheck
from eqprop_analog.learning.export import export_run, write_summary
from eqprop_analog.learning.trainer import EVAL_BATCH, Trainer, check_epochs_left
from eqprop_analog.run_report import write_report
from eqprop_analog.spice.readback import read_weight_map

CONFIG_FILE = "config.toml"
# what a resumed run may change: options that change no result beyond the solver's tolerance
RESUME_OPTIONS = ("epochs", "spice_timeout", "spice_workers", "matrix_solver", "input_crossbar",
                  "check_engine", "check_every", "check_tolerance", "step_energy",
                  "settling_samples")
# options added after runs' config.toml files were first written: missing there, they default
ADDED_SINCE = ("spice_timeout", "amplifier_backward_ratio", "node_capacitance", "spice_workers",
               "matrix_solver", "check_engine", "check_every", "check_tolerance", "neuron_model",
               "amplifier_model", "input_crossbar", "init_from", "phase_time", "pulse_energy",
               "step_energy", "settling_samples")


def build_trainer(config: RunConfig, data: Dataset, engine: Engine, run_dir: str | Path, *,
                  progress: bool | None = None, log: Callable[[str], object] = print,
                  check: EngineCheck | None = None, resume: bool = False) -> Trainer:
    """The trainer of ``config`` on ``data``, its parts made from the config's options (refused
    before anything is allocated if the network cannot fit in memory), with the engine check
    ``check`` if given; a new run (not ``resume``) reads its ``init_from`` conductances."""
    spec = config.circuit_spec(data.n_features, data.n_classes)
    check_fits(spec, engine.name if engine.name in BYTES_PER_CONDUCTANCE else "native")
    network = LayeredNetwork(spec)
    options = config.training_options()
    if config.init_from is not None and not resume:
        options = replace(options, initial=starting_conductances(config.init_from, network))
    return Trainer(network, engine, config.cost_model(), config.ep_estimator(),
                   config.device_model(), options, data, run_dir,
                   progress=progress, log=log, check=check)


def starting_conductances(path: str, network: LayeredNetwork) -> tuple[np.ndarray, ...]:
    """The conductances of a CSV (element, conductance), each within the devices' range."""
    conductances = read_weight_map(path, network)
    spec = network.spec
    for names, g in zip(network.resistor_names, conductances):
        outside = np.flatnonzero((g < spec.g_min) | (g > spec.g_max))
        if outside.size:
            k = int(outside[0])
            raise DataError(f"conductance file {path}: {names.flat[k]} is {g.flat[k]:g} S, outside "
                            f"[g_min, g_max] = [{spec.g_min:g}, {spec.g_max:g}] S; widen the "
                            "range or correct the value")
    return conductances


def train(config: RunConfig, run_dir: str | Path, *, resume: bool = False,
          engine: Engine | None = None, progress: bool | None = None,
          log: Callable[[str], object] = print) -> dict:
    """Train on ``config.dataset``; write config.toml, checkpoint, metrics, trained netlist, weight
    map, curves, summary.json (with the test set's inference profile) and report.html into
    ``run_dir``; return the summary (accuracies, seconds, run_dir, ...).

    With ``resume`` the run continues from the checkpoint in ``run_dir`` and its config.toml is
    rewritten with ``config`` (:func:`resume_config` lets only ``RESUME_OPTIONS`` differ from the
    run's). An engine passed in is left open; one made here is closed."""
    run_dir = Path(run_dir)
    data = load_dataset(config.dataset, config.seed, config.test_fraction, config.data_dir)
    own_engine = engine is None
    engine = engine or config.engine_for()
    check = None
    try:
        check = config.engine_check()
        trainer = build_trainer(config, data, engine, run_dir, progress=progress, log=log,
                                check=check, resume=resume)
        if not resume:
            run_dir.mkdir(parents=True, exist_ok=True)
            for model in trainer.network.spec.user_subcircuits:
                atomic_write_text(run_dir / subcircuit_copy(model), model.text + "\n")
        else:
            check_subcircuits_unchanged(trainer.network.spec, run_dir)
            # refused before config.toml takes the epochs asked for (the trainer checks it too)
            check_epochs_left(run_dir, read_checkpoint(run_dir).epoch, config.epochs)
        # a resumed run's too: a later --resume goes on with the epochs and options it now has
        atomic_write_text(run_dir / CONFIG_FILE, config_to_toml(config))
        log(f"training {'-'.join(map(str, trainer.network.spec.layers))} on {data.name} "
            f"({len(data.x_train)} train, {len(data.x_test)} test samples) with "
            f"{engine_label(engine, trainer.network)}, {config.estimator} EP, {config.cost}, "
            f"beta {config.beta:g}"
            + (f"; checked against {engine_label(check.replica, trainer.network)} every "
               f"{'epoch' if check.every == 1 else f'{check.every} epochs'}"
               if check is not None else ""))
        result = trainer.fit(resume=resume)
        summary = export_run(trainer, result, {"inference": test_set_profile(
            trainer, result.conductances)})
        write_report_or_say(run_dir, log)
        # after the summary and the report, which a long simulation must not hold back
        settled = test_set_settling(trainer, result.conductances, config.settling_samples,
                                    config.node_capacitance, log)
        if settled is not None:
            summary["settling"] = settled
            write_summary(run_dir, summary)
            write_report_or_say(run_dir, log)
        return summary
    finally:
        if check is not None:
            check.replica.close()
        if own_engine:
            engine.close()


def write_report_or_say(run_dir: Path, log: Callable[[str], object]) -> None:
    """Write the run's report; a failure is said, not raised: the run is finished and saved."""
    try:
        write_report(run_dir)
    except (EqpropError, OSError) as exc:
        log(f"the report could not be written ({exc}); eqprop-analog report {run_dir} writes it")


def test_set_profile(trainer: Trainer, conductances: tuple[np.ndarray, ...]) -> dict:
    """The inference profile (confusion, voltage ranges, static power) of the test set's free
    states at the trained conductances as programmed (no read noise)."""
    x, labels = trainer.data.x_test, trainer.data.y_test
    batches = ((x[s:s + EVAL_BATCH], labels[s:s + EVAL_BATCH],
                trainer.free_state(conductances, x[s:s + EVAL_BATCH],
                                   f"inference profile batch {s // EVAL_BATCH}"))
               for s in range(0, len(x), EVAL_BATCH))
    return profile(trainer.network, conductances, trainer.data.n_classes, batches)


def test_set_settling(trainer: Trainer, conductances: tuple[np.ndarray, ...], samples: int,
                      capacitance: float, log: Callable[[str], object]) -> dict | None:
    """The settling time and energy of the first ``samples`` test samples' inferences, simulated
    in time in ngspice with ``capacitance`` on every free node; None where none is asked for, or
    where the simulation fails (said in the log: the trained run is kept all the same)."""
    if not samples:
        return None
    x = trainer.data.x_test[:samples]
    log(f"simulating the inference of {len(x)} test sample{'s' * (len(x) > 1)} in time")
    try:
        final = trainer.network.readout(trainer.free_state(conductances, x,
                                                           "settling's final states"))
        return simulated_settling(trainer.network, conductances, x, final, capacitance)
    except EqpropError as exc:  # ngspice failed, or is missing
        log(f"the settling simulation failed ({exc}); eqprop-analog evaluate "
            f"{trainer.run_dir} --settling {samples} tries it again and prints it")
        return None


def subcircuit_copy(model: UserSubcircuit) -> str:
    """The file in a run's folder that keeps the subcircuit it was started with, as checked."""
    return f"{model.role}_model.lib"


def check_subcircuits_unchanged(spec: CircuitSpec, folder: Path) -> None:
    """Refuse a run or export folder whose user subcircuit files now hold another circuit than
    the one it was trained with, kept in the folder (runs from before these copies were kept are
    not checked)."""
    for model in spec.user_subcircuits:
        copy = folder / subcircuit_copy(model)
        if copy.exists() and read_user_text(copy, "trained subcircuit", ConfigError) != \
                model.text + "\n":
            raise ConfigError(f"{model.path} has changed since the network in {folder} was "
                              f"trained (the {model.role} it was trained with is in {copy}): "
                              "restore it, or train a new run")


def engine_label(engine: Engine, network: LayeredNetwork) -> str:
    """The engine in words for the log: ``ngspice 46 (KLU matrix solver, input crossbar as its
    Norton equivalent)``, ``native``."""
    about = engine.describe(network)
    if "ngspice_version" not in about:
        return engine.name
    held = ("as its Norton equivalent" if about.get("input_crossbar") == "norton"
            else "device by device")
    return (f"{engine.name} {about['ngspice_version']} ({str(about['matrix_solver']).upper()} "
            f"matrix solver, input crossbar {held})")


def written_config(folder: Path) -> RunConfig:
    """The config.toml the tool wrote into ``folder`` (a run's, or an export's), checked whole."""
    data = read_toml(folder / CONFIG_FILE, "the run's config")
    # its tables checked first; a relative path (an export's subcircuit copies) from the folder
    config = config_from_mapping(paths_from_folder(data, folder.absolute()))
    # the run wrote every option it knew: one missing means the file was cut or edited
    missing = [n for n, spec in OPTIONS.items()
               if n not in data.get(spec.section, {}) and n not in ADDED_SINCE]
    if missing:
        raise ConfigError(f"{folder / CONFIG_FILE} lacks {len(missing)} options (first: "
                          f"[{OPTIONS[missing[0]].section}] {missing[0]}); the run wrote them "
                          "all, so the file is damaged")
    return config


def resume_config(run_dir: Path, overrides: dict) -> RunConfig:
    """The config of an earlier run, with ``overrides``: only ``epochs`` and the options that
    change no result beyond the solver's tolerance (``RESUME_OPTIONS``) may change."""
    if not (run_dir / CHECKPOINT).is_file():
        raise ConfigError(f"{run_dir} has no {CHECKPOINT} to resume from")
    config = written_config(run_dir)
    changed = sorted(set(overrides) - set(RESUME_OPTIONS))
    if changed:
        may = " and ".join(OPTIONS[n].flag for n in RESUME_OPTIONS)
        raise ConfigError(f"--resume continues a run as configured; only {may} may change, "
                          f"not {', '.join(changed)}")
    return replace(config, **overrides)
