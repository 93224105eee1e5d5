"""Run configs: a round trip through TOML keeps every option, and the README lists every option
exactly as the option table declares it."""

from dataclasses import fields
from pathlib import Path

import pytest

from eqprop_analog.config import OPTIONS, SECTIONS, RunConfig
from eqprop_analog.config_files import apply_overrides, config_to_toml, load_config
from eqprop_analog.errors import ConfigError
from eqprop_analog.options import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- options: start -->\n", "<!-- options: end -->"

# a value for every option, almost all of them other than the default
CHANGED = dict(
    hidden=(7, 5), input_gain=2.5, g_min=2e-7, g_max=5e-5, init_low=3e-7, init_high=4e-5,
    neuron="clamp", signed_weights="differential-pairs", relu_bias=0.3, clamp_low=-0.4,
    clamp_high=0.6, diode_is=2e-12, diode_n=1.5, diode_rs=10.0, diode_spread=0.1, bias_rail=0.9,
    amplifier_gain=None, amplifier_open_loop_gain=None, amplifier_backward_ratio=1.0,
    neuron_model=None, amplifier_model=None, node_capacitance=2e-12, phase_time=2e-6,
    differential_outputs=True,
    ideal_diodes=False, wire_resistance=3.0, dataset='od"d\\name\n.csv', epochs=3, batch_size=5,
    beta=2e-6, estimator="one-sided", nudging="current", cost="squared-error", softmax_gain=10.0,
    target_high=0.3, target_low=-0.2, lr=(1e-8, 2e-8, 3e-8), lr_decay=0.5, seed=7,
    init_from="/data/measured.csv", step_energy=False, settling_samples=2,
    test_fraction=0.25, data_dir="/data/mnist", engine="native", reltol=1e-7, spice_timeout=90.0,
    spice_workers=3, matrix_solver="sparse", input_crossbar="full",
    check_engine="ngspice", check_every=3, check_tolerance=1e-5,
    device="memristor", levels=8, scheme="rprop", pulse=0.01, rprop_eta=1.2, pulse_energy=2e-9,
    nonlinearity=2.0,
    eps_intra=0.01, eps_inter=0.2, read_noise=0.02, read_noise_floor=1e-8, stuck=0.01)


def test_every_option_is_a_declared_field_in_one_table():
    assert list(OPTIONS) == [f.name for f in fields(RunConfig)]
    assert sum(len(names) for names in SECTIONS.values()) == len(OPTIONS)
    assert set(CHANGED) == set(OPTIONS)


@pytest.mark.parametrize("amplifier", [None, 3.0])
def test_round_trip_through_toml_keeps_every_option(tmp_path, amplifier):
    config = apply_overrides(RunConfig(), {**CHANGED, "amplifier_gain": amplifier,
                                           "amplifier_open_loop_gain": amplifier and 50.0,
                                           "amplifier_backward_ratio": amplifier and 1.5 or 1.0})
    # all but ideal_diodes and the user subcircuits (refused with differential pairs; the
    # subcircuits' round trip is in tests/test_subcircuits.py) and, in one case, the amplifiers'
    # open-loop gain and backward ratio
    assert sum(getattr(config, n) != getattr(RunConfig(), n) for n in OPTIONS) >= len(OPTIONS) - 5
    path = tmp_path / "config.toml"
    path.write_text(config_to_toml(config))
    assert load_config(path) == config


def test_a_config_file_sets_only_what_it_names(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[circuit]\nhidden = [12]\namplifier_gain = "none"\n[engine]\nengine = "native"\n')
    config = load_config(path)
    assert (config.hidden, config.amplifier_gain, config.engine) == ((12,), None, "native")
    assert config.g_min == RunConfig().g_min


@pytest.mark.parametrize("text, words", [
    ('[circuit]\nepochs = 3\n', "unknown option 'epochs' in [circuit]"),
    ('[wires]\nx = 1\n', "unknown table [wires]"),
    ('circuit = 3\n', "[circuit] must be a table"),
])
def test_a_config_file_in_the_wrong_shape_is_refused(tmp_path, text, words):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_the_readme_lists_every_option_as_declared():
    text = README.read_text()
    assert START in text and END in text, "README lacks the options table markers"
    listed = text[text.index(START) + len(START):text.index(END)]
    expected = markdown_table(OPTIONS)
    assert listed == expected, ("README's options table differs from the option table; replace "
                                f"it by:\n{expected}")


def test_files_named_relative_to_the_working_folder_are_kept_absolute(tmp_path, monkeypatch):
    """The config as a run writes it names its dataset file and data folder absolutely, so it
    reads back the same from another working folder."""
    monkeypatch.chdir(tmp_path)
    config = RunConfig(dataset="data/points.csv", data_dir="idx")
    assert config.dataset == str(tmp_path / "data" / "points.csv")
    assert config.data_dir == str(tmp_path / "idx")
    assert RunConfig().dataset == "digits"  # a name stays a name
    path = tmp_path / "config.toml"
    path.write_text(config_to_toml(config))
    monkeypatch.chdir("/")
    assert load_config(path) == config
