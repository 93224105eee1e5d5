"""The report of a run (``eqprop-analog report``, and the end of training): one self-contained
HTML file (its figures inline SVG, no script, nothing fetched), for the researcher and the
hardware engineer alike.

It shows the training curves, the energy of a training step, the conductances of each crossbar,
the voltage ranges of each layer (to size diodes and amplifiers), the static power of one
inference group by group and, where the run simulated it, its settling time and energy, the
confusion matrix, the circuit, training, engine and device options, the engine and its version,
and the engine check and any ``verify.json`` results kept in the run folder.
"""

from __future__ import annotations

import copy
import html
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from eqprop_analog.analysis.inference import checked_profile
from eqprop_analog.analysis.settling import checked_settling
from eqprop_analog.analysis.step_energy import STEP_KEYS, training_energy
from eqprop_analog.config_files import config_from_mapping, read_toml
from eqprop_analog.config_paths import paths_from_folder
from eqprop_analog.errors import ConfigError, DataError, EqpropError
from eqprop_analog.files import atomic_write_text, read_user_text
from eqprop_analog.learning.checkpoint import CHECKPOINT, read_checkpoint
from eqprop_analog.report.run_figures import (
    conductance_histograms,
    confusion_matrix,
    power_bars,
    step_energy_curves,
    training_curves,
    voltage_ranges,
)

REPORT = "report.html"
MAX_VERIFY_BYTES = 200_000  # a verify.json shown in full only up to this size
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222;
       line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
svg.figure { max-width: 100%; height: auto; margin: 0.5em 1em 0.5em 0; }
p.note { color: #555; font-size: 0.92em; }
pre { background: #f5f5f5; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f'<td class="n">{value:.6g}</td>'
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f'<td class="n">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(rows: list[list[object]], header: list[str] | None = None) -> str:
    head = ("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
            if header else "")
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _read_json(path: Path, what: str) -> dict:
    try:
        value = json.loads(read_user_text(path, what))
    except json.JSONDecodeError as exc:
        raise DataError(f"{what} {path} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise DataError(f"{what} {path} does not hold a JSON object")
    return value


def run_summary(run_dir: str | os.PathLike) -> dict:
    """The run's summary.json ({} where the run stopped before writing it)."""
    path = Path(run_dir) / "summary.json"
    return _read_json(path, "run summary") if path.exists() else {}


def run_folder(run_dir: str | os.PathLike) -> Path:
    """``run_dir``, refused unless it holds a run's checkpoint."""
    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINT).is_file():
        raise ConfigError(f"{run_dir} is not a run folder: it has no {CHECKPOINT}")
    return run_dir


def current_profile(run_dir: str | os.PathLike, epoch: int | None = None) -> dict | None:
    """The inference profile in the run's summary, checked, where it describes the run's last
    checkpoint (of ``epoch``, read from it if not given); None for a run from before summaries
    held one, a run stopped before its summary was written, and a run resumed since (its
    summary is then an earlier epoch's)."""
    run_dir = run_folder(run_dir)
    summary = run_summary(run_dir)
    if epoch is None:
        epoch = read_checkpoint(run_dir).epoch
    if "inference" not in summary or summary.get("epochs") != epoch:
        return None
    return checked_profile(summary["inference"], str(run_dir / "summary.json"))


def _conductance_rows(conductances: tuple[np.ndarray, ...], g_min: float, g_max: float
                      ) -> list[list[object]]:
    rows = []
    for l, g in enumerate(conductances, start=1):
        rows.append([f"crossbar {l}", f"{g.shape[0]} x {g.shape[1]}", float(g.min()),
                     float(np.median(g)), float(g.max()),
                     f"{100 * np.mean(g <= g_min * (1 + 1e-9)):.1f} %",
                     f"{100 * np.mean(g >= g_max * (1 - 1e-9)):.1f} %"])
    return rows


def _step_energy(history: list[dict], options: dict) -> str:
    """The energy of a training step per epoch, its last epoch's and the run's totals."""
    curves = step_energy_curves(history, {k.replace("_", " "): v for k, v in STEP_KEYS.items()})
    if curves is None:
        return ("<p>This run's metrics hold no energy per step: it was trained with step_energy "
                "= false, or before runs recorded it.</p>")
    phase_time = options.get("training", {}).get("phase_time", 1e-6)
    energy = training_energy(history, phase_time)
    rows = [[name.replace("_", " "), energy["per_step_j"].get(name, "-"),
             energy["total_j"][name],
             f"{energy['epochs'][name]} of {len(history)}"]
            for name in STEP_KEYS if name in energy["total_j"]]
    return ("<p class=note>Per training step (one mini-batch): every sample held in each phase "
            f"(free, each nudged) for phase_time = {html.escape(str(phase_time))} s at the power "
            "its sources supply in that phase's steady state, nudging sources included; "
            "programming from the device model's pulses (a memristor's pulse_energy per pulse of "
            "width dt_max, in proportion for other widths; a write-verify update as the width "
            "that makes its change). Mean per step of each epoch.</p>" + curves +
            _table(rows, ["", "per step, last epoch (J)", "total (J)", "epochs counted"]))


def _settling(summary: dict, where: str) -> str:
    """The settling time and energy of the inferences the run simulated in time, if any."""
    if "settling" not in summary:
        return ("<p>Not simulated: a run trained with settling_samples = N (--settling-samples "
                "N) simulates it; eqprop-analog evaluate RUN --settling N prints it for any "
                "run.</p>")
    settled = checked_settling(summary["settling"], where)
    time, energy = settled["settling_time_s"], settled["energy_j"]
    return ("<p class=note>From a transient of each of the first test samples' inference: the "
            "network at rest with its inputs at 0 V, then the sample's inputs switched on, with "
            "node_capacitance on every free node. Settled: every output within 1 % of the "
            "largest final output's magnitude of its final value; the energy is what the sources "
            "deliver until then.</p>" +
            _table([["samples", settled["samples"]],
                    ["node capacitance (F)", float(settled["node_capacitance_f"])],
                    ["settling time, mean (us)", 1e6 * time["mean"]],
                    ["settling time, largest (us)", 1e6 * time["max"]],
                    ["energy, mean (nJ)", 1e9 * energy["mean"]],
                    ["energy, largest (nJ)", 1e9 * energy["max"]]]))


def _checks(run_dir: Path, history: list[dict]) -> str:
    """The engine check per epoch, and each verify.json in the run folder or one level below."""
    parts = []
    checked = [[h["epoch"], h["engine_difference"]] for h in history
               if h.get("engine_difference") is not None]
    if checked:
        parts.append("<p>Largest difference between the training engine and its replica, per "
                     "checked epoch (V):</p>" + _table(checked, ["epoch", "difference (V)"]))
    for path in sorted([*run_dir.glob("verify.json"), *run_dir.glob("*/verify.json")]):
        try:
            text = (read_user_text(path, "verify result") if path.stat().st_size <=
                    MAX_VERIFY_BYTES else f"(larger than {MAX_VERIFY_BYTES} bytes: see the file)")
        except (EqpropError, OSError) as exc:  # the report still shows everything else
            text = f"(unreadable: {exc})"
        parts.append(f"<p>{html.escape(str(path.relative_to(run_dir)))}:</p>"
                     f"<pre>{html.escape(text)}</pre>")
    return "".join(parts) or "<p>This run has no engine check and no verify.json.</p>"


def check_config_fits(options: dict, conductances: tuple[np.ndarray, ...], path: Path) -> None:
    """Refuse a run's config (parsed TOML) that is no config, or whose network has other
    crossbars than the checkpoint holds (an edited config.toml): the report shows both."""
    try:
        config = config_from_mapping(paths_from_folder(copy.deepcopy(options),
                                                       path.parent.absolute()))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    # the data's sizes set crossbar 1's rows and the last one's columns; subcircuits no shape
    spec = replace(config, neuron_model=None, amplifier_model=None).spec_for(
        (1, *config.hidden, 1))
    def inner(shapes) -> list[tuple[int | None, int | None]]:
        return [(r if l else None, c if l < len(shapes) - 1 else None)
                for l, (r, c) in enumerate(shapes)]
    held = [g.shape for g in conductances]
    if inner(held) != inner(spec.crossbar_shapes):
        raise ConfigError(f"{path} describes a network of hidden layers {list(config.hidden)}, "
                          f"which the checkpoint's crossbars {held} do not fit: the file was "
                          "edited; restore it")


def report_html(run_dir: str | os.PathLike, evaluated: dict | None = None) -> str:
    """The report of the run in ``run_dir`` as HTML text. Where its summary lacks the inference
    profile of its last checkpoint (:func:`current_profile`), ``evaluated`` gives it: the
    ``inference`` profile and the engine's entries, as the summary would hold them."""
    run_dir = run_folder(run_dir)
    checkpoint = read_checkpoint(run_dir)
    options = read_toml(run_dir / "config.toml", "the run's config")
    check_config_fits(options, checkpoint.conductances, run_dir / "config.toml")
    summary, inference = run_summary(run_dir), current_profile(run_dir, checkpoint.epoch)
    about = summary
    if inference is None:
        if evaluated is None:
            raise ConfigError(f"{run_dir / 'summary.json'} holds no inference profile of the "
                              "run's last checkpoint: evaluate the run for its report "
                              "(eqprop-analog report does)")
        inference = checked_profile(evaluated.get("inference"), "the evaluation")
        about = evaluated
    circuit, history = options.get("circuit", {}), checkpoint.history
    g_min, g_max = float(circuit.get("g_min", 1e-7)), float(circuit.get("g_max", 1e-4))
    layers = ("-".join(map(str, summary["layers"])) if isinstance(summary.get("layers"), list)
              and all(isinstance(n, int) for n in summary["layers"])
              else f"hidden {circuit.get('hidden', '?')}")
    dataset = str(options.get("training", {}).get("dataset", "?"))
    final = history[-1] if history else {}
    engine = [[k, about[k]] for k in ("engine", "ngspice_version", "matrix_solver",
                                      "input_crossbar") if k in about]
    results = [["epochs trained", checkpoint.epoch],
               *[[k.replace("_", " "), final[k]] for k in
                 ("train_accuracy", "test_accuracy", "train_loss", "test_loss") if k in final],
               ["inference profile", f"{inference['samples']} test samples, accuracy "
                                     f"{100 * inference['accuracy']:.2f} % at the conductances "
                                     "as programmed (no read noise)"],
               *engine, *[["warning", w] for w in checkpoint.state.warnings]]
    power = inference["static_power_w"]
    power_rows = [[g, 1e3 * w] for g, w in power.items()] + [
        ["largest imbalance of a sample", 1e3 * inference["largest_imbalance_w"]]]
    ranges = inference["voltage_ranges"]
    sections = [
        f"<h1>eqprop-analog run: {html.escape(layers)} on {html.escape(dataset)}</h1>",
        f"<p>{html.escape(str(run_dir.absolute()))}</p>",
        "<h2>Results</h2>", _table(results),
        "<h2>Training curves</h2>",
        "".join(training_curves(history)) if history else "<p>No epoch finished yet.</p>",
        "<h2>Energy of a training step</h2>",
        _step_energy(history, options) if history else "<p>No epoch finished yet.</p>",
        "<h2>Conductances per crossbar</h2>",
        "".join(conductance_histograms(checkpoint.conductances, g_min, g_max)),
        _table(_conductance_rows(checkpoint.conductances, g_min, g_max),
               ["crossbar", "devices", "min (S)", "median (S)", "max (S)", "at g_min",
                "at g_max"]),
        "<h2>Voltage ranges</h2>",
        "<p class=note>Over every test sample's free state: each layer's node voltages, the "
        "amplifiers' outputs, and the largest voltage across a device of each crossbar.</p>",
        voltage_ranges(ranges),
        _table([[k, lo, hi] for k, (lo, hi) in ranges.items()], ["", "min (V)", "max (V)"]),
        "<h2>Static power per inference</h2>",
        "<p class=note>Mean over the test samples' free states, absorbed power per element "
        "group (sources deliver, so they are negative); supplied is what the sources deliver "
        "in all; the largest imbalance is the largest sum over every group of one sample, "
        "which Tellegen's theorem makes zero at an exact steady state. An "
        "ideal amplifier takes at its input the power it gives at its output: its net power is "
        "0 W, its supplies being outside the model.</p>",
        power_bars(power),
        _table(power_rows, ["group", "power (mW)"]),
        "<h2>Settling of an inference</h2>",
        _settling(about, str(run_dir / "summary.json")),
        "<h2>Confusion matrix</h2>",
        confusion_matrix(inference["confusion"]),
        "<h2>Circuit, training, engine and device options</h2>",
        *[f"<h3>[{html.escape(s)}]</h3>" + _table([[k, v] for k, v in t.items()])
          for s, t in options.items() if isinstance(t, dict)],
        "<h2>Checks</h2>", _checks(run_dir, history),
    ]
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>eqprop-analog: {html.escape(layers)} on {html.escape(dataset)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(sections) +
            "\n</body></html>\n")


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None,
                 evaluated: dict | None = None) -> Path:
    """Write the report of the run in ``run_dir`` to ``out`` (default ``run_dir/report.html``);
    ``evaluated`` as for :func:`report_html`."""
    path = Path(out) if out is not None else Path(run_dir) / REPORT
    atomic_write_text(path, report_html(run_dir, evaluated))
    return path
