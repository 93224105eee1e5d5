"""The ngspice engine: phases, nudging, errors that leave the caller alive, memory."""

import subprocess
import sys

import numpy as np
import pytest
from faults import crash_during_next_call

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines import Phases, SquaredError
from eqprop_analog.engines import ngspice as ngspice_engine
from eqprop_analog.engines.ngspice import NgspiceEngine, SpiceOptions, resolved_solver
from eqprop_analog.errors import ConfigError, DataError, LibraryNotFoundError, SpiceError
from eqprop_analog.spice.library import LIBRARY_ENV
from eqprop_analog.spice.worker import NgspiceProcess


@pytest.fixture
def small(rng):
    network = LayeredNetwork(CircuitSpec((4, 6, 3), relu_bias=0.45, input_gain=4.0))
    return network, network.initial_conductances(rng, 1e-6, 5e-5), rng.uniform(0, 1, (5, 4))


def test_interleaved_phases_match_separate_solves(engine, small, rng):
    """The free point of an interleaved sweep is the same steady state as a free-only sweep."""
    network, g, x = small
    y = rng.uniform(-0.2, 0.2, (5, 3))
    both = engine.solve(network, g, x, Phases((0.0, 1e-5, -1e-5), SquaredError(), y))
    free = engine.solve(network, g, x).phase(0.0)
    np.testing.assert_allclose(both.phase(0.0), free, atol=1e-6)
    # nudging pulls the outputs towards the targets, and -beta pushes them away
    dist = lambda v: np.abs(network.readout(v) - y).sum()  # noqa: E731
    assert dist(both.phase(1e-5)) < dist(free) < dist(both.phase(-1e-5))


def test_current_nudging_agrees_with_exact_to_first_order(precise_engine, small, rng):
    network, g, x = small
    y = rng.uniform(-0.2, 0.2, (5, 3))
    free = precise_engine.solve(network, g, x).phase(0.0)
    gaps = []
    for beta in (1e-6, 1e-7):
        exact = precise_engine.solve(network, g, x, Phases((0.0, beta), SquaredError(), y, "exact"))
        current = precise_engine.solve(network, g, x, Phases((0.0, beta), SquaredError(), y,
                                                             "current"))
        shift = np.abs(exact.phase(beta) - free).max()
        gaps.append(np.abs(exact.phase(beta) - current.phase(beta)).max() / shift)
    assert gaps[1] < gaps[0] / 5  # the relative gap is O(beta)


@pytest.mark.parametrize("mode", ["exact", "current"])
def test_large_batch_is_split_across_sweeps(engine, small, mode):
    network, g, _ = small
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (7, 4)), rng.uniform(-0.2, 0.2, (7, 3))
    phases = Phases((0.0, 1e-5, -1e-5), SquaredError(), y, mode)
    split = NgspiceEngine(SpiceOptions(max_points=6))  # two samples of three phases per sweep
    try:
        np.testing.assert_allclose(split.solve(network, g, x, phases).voltages,
                                   engine.solve(network, g, x, phases).voltages, atol=1e-6)
    finally:
        split.close()


def test_targets_must_match_the_batch(engine, small):
    network, g, x = small
    with pytest.raises(DataError, match="targets"):
        engine.solve(network, g, x, Phases((0.0, 1e-6), SquaredError(), np.zeros((4, 3))))


def test_bad_features_are_rejected(engine, small):
    network, g, _ = small
    with pytest.raises(DataError, match="4 columns"):
        engine.solve(network, g, np.zeros((2, 5)))
    with pytest.raises(DataError, match="NaN"):
        engine.solve(network, g, np.array([[0.1, np.nan, 0.2, 0.3]]))
    with pytest.raises(DataError, match="no sample"):
        engine.solve(network, g, np.zeros((0, 4)))


@pytest.mark.ngspice
def test_ngspice_error_names_analysis_and_batch_and_process_survives(small):
    network, g, x = small
    process = NgspiceProcess()
    try:
        with pytest.raises(SpiceError) as info:
            process.dc_sweep("broken\nR1 a 0 1k\nB1 a 0 V=nosuchfunc(V(a))\n.end\n", "v_sweep", 3,
                             ("a",), batch=7)
        message = str(info.value)
        assert "batch 7" in message and "'dc'" in message and "ngspice:" in message
        engine = NgspiceEngine(process=process)  # the same child keeps working afterwards
        assert engine.solve(network, g, x).voltages.shape == (1, 5, 9)
    finally:
        process.close()


@pytest.mark.ngspice
def test_crash_of_ngspice_process_raises_and_next_call_restarts(small):
    network, g, x = small
    engine = NgspiceEngine()
    try:
        engine.solve(network, g, x)
        crash_during_next_call(engine.process)
        with pytest.raises(SpiceError, match="died"):
            engine.solve(network, g, x, batch_index=3)
        assert engine.solve(network, g, x).voltages.shape == (1, 5, 9)
    finally:
        engine.close()


@pytest.mark.ngspice
def test_failed_analysis_is_a_spice_error_and_process_survives():
    """Two ideal sources fighting over one node: gmin and source stepping fail, ngspice aborts the
    sweep, and the error carries its words."""
    process = NgspiceProcess()
    try:
        unsolvable = "t\nV_SWEEP s 0 0\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1k\n.end\n"
        with pytest.raises(SpiceError, match="analysis 'dc', batch 2.*aborted"):
            process.dc_sweep(unsolvable, "V_SWEEP", 3, ("a",), batch=2)
        ok = process.dc_sweep("t\nV_SWEEP s 0 0\nR1 s 0 1k\n.end\n", "V_SWEEP", 3, ("s",))
        np.testing.assert_array_equal(ok[:, 0], [0.0, 1.0, 2.0])
    finally:
        process.close()


def test_missing_library_is_reported(monkeypatch):
    monkeypatch.setenv(LIBRARY_ENV, "/nonexistent/libngspice.so.0")
    with pytest.raises(LibraryNotFoundError, match=LIBRARY_ENV):
        NgspiceEngine()


@pytest.mark.ngspice
def test_child_memory_stays_flat(small):
    """Resident memory of the ngspice process after 300 batches is within 3 MB of that after 50
    (BENCHMARKS.md has the 10,000-batch run)."""
    network, g, x = small
    y = np.zeros((5, 3))
    engine = NgspiceEngine()

    def rss_kb():
        with open(f"/proc/{engine.process.pid}/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS"))
    try:
        phases = Phases((0.0, 1e-6, -1e-6), SquaredError(), y)
        for _ in range(50):
            engine.solve(network, g, x, phases)
        before = rss_kb()
        for _ in range(250):
            engine.solve(network, g, x, phases)
        assert rss_kb() - before < 3000
    finally:
        engine.close()


@pytest.mark.ngspice
def test_stepping_notes_are_no_failure():
    """ngspice reports gmin and source stepping on stderr; a sweep that converges that way is fine."""
    process = NgspiceProcess()
    try:
        hard = "t\nV_SWEEP s 0 0\nB1 a 0 I=1e-3*exp(1000*V(a))\nR1 a 0 1k\nI1 0 a 1\n.end\n"
        v = process.dc_sweep(hard, "V_SWEEP", 2, ("a",))[:, 0]
        np.testing.assert_allclose(1e-3 * np.exp(1000 * v) + v / 1e3, 1.0, rtol=1e-5)
    finally:
        process.close()


@pytest.mark.parametrize("mode", ["exact", "current"])
def test_several_processes_solve_shares_of_a_batch_as_one_does(precise_engine, small, rng, mode):
    """The batch split over 3 processes, each in sweeps of 2 samples: the same steady states as
    one process solving it whole (to the solver's tolerance), targets staying with their
    samples."""
    network, g, x = small
    y = rng.uniform(-0.2, 0.2, (5, 3))
    phases = Phases((0.0, 1e-6, -1e-6), SquaredError(), y, mode)
    split = NgspiceEngine(SpiceOptions(reltol=1e-9, vntol=1e-12, abstol=1e-18, max_points=6),
                          workers=3)
    try:
        np.testing.assert_allclose(split.solve(network, g, x, phases).voltages,
                                   precise_engine.solve(network, g, x, phases).voltages,
                                   atol=1e-9)
        pids = [p.pid for p in split.processes]
        assert None not in pids and len(set(pids)) == 3  # every process took a share
    finally:
        split.close()


def test_a_crash_in_one_of_several_processes_fails_the_solve_and_the_next_works(small):
    network, g, x = small
    engine = NgspiceEngine(workers=2)
    try:
        first = engine.solve(network, g, x).voltages
        crash_during_next_call(engine.processes[1])
        with pytest.raises(SpiceError) as failure:
            engine.solve(network, g, x)
        assert failure.value.lost_process
        np.testing.assert_allclose(engine.solve(network, g, x).voltages, first, atol=1e-9)
    finally:
        engine.close()


def test_workers_must_be_a_positive_integer():
    from eqprop_analog.errors import ConfigError

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="workers"):
            NgspiceEngine(workers=bad)


def test_make_engine_has_one_process_per_core_by_default():
    from eqprop_analog.engines import make_engine
    from eqprop_analog.threads import available_cores

    engine = make_engine("ngspice", workers=None)
    try:
        assert len(engine.processes) == available_cores()
    finally:
        engine.close()


def test_several_processes_solve_again_after_close(small):
    """close() stops the processes and their threads; the next solve starts them again and
    still uses every process."""
    network, g, x = small
    engine = NgspiceEngine(workers=2)
    try:
        first = engine.solve(network, g, x).voltages
        engine.close()
        np.testing.assert_array_equal(engine.solve(network, g, x).voltages, first)
        assert all(p.pid is not None for p in engine.processes)
    finally:
        engine.close()


# -- matrix solver ---------------------------------------------------------------------------------
@pytest.fixture
def fresh_fallback_note(monkeypatch):
    monkeypatch.setattr(ngspice_engine, "_fallback_said", False)


@pytest.mark.parametrize("requested, klu, expected", [
    ("auto", True, "klu"), ("auto", False, "sparse"), ("klu", True, "klu"),
    ("sparse", True, "sparse"), ("sparse", False, "sparse")])
def test_matrix_solver_resolves_against_the_library(fresh_fallback_note, capsys, requested, klu,
                                                    expected):
    assert resolved_solver(requested, 46 if klu else 39, klu) == expected
    said = capsys.readouterr().err
    fell_back = requested == "auto" and not klu
    assert ("falling back to its sparse solver" in said) == fell_back
    assert said.count("\n") == int(fell_back)  # one line


def test_fallback_to_the_sparse_solver_is_said_once(fresh_fallback_note, capsys):
    for _ in range(3):
        resolved_solver("auto", 39, False)
    assert capsys.readouterr().err.count("ngspice 39 has no KLU") == 1


def test_klu_asked_of_a_library_without_it_is_a_config_error(fresh_fallback_note):
    with pytest.raises(ConfigError, match=r'needs ngspice >= 42 .* ngspice 39 has none'):
        resolved_solver("klu", 39, False)
    with pytest.raises(ConfigError, match="matrix_solver must be one of auto, klu, sparse"):
        SpiceOptions(matrix_solver="lu")


PROBE_CHECK = """
from eqprop_analog.spice.session import NgspiceSession
session = NgspiceSession()
session.load("rc\\nV1 a 0 DC 1\\nR1 a b 1k\\nR2 b 0 1k\\n.options klu\\n.end")
session._command("op", "op")
printed = " ".join(session._ng._stdout + session._ng._stderr)
print(session.version, "Using KLU as Direct Linear Solver" in printed, session.has_klu())
"""


def test_the_library_is_asked_whether_it_has_klu():
    """The probe's answer, against what ngspice itself prints when it solves with KLU (in a
    process of its own: ngspice keeps global state)."""
    out = subprocess.run([sys.executable, "-c", PROBE_CHECK], capture_output=True, text=True,
                         check=True).stdout.split()
    version, printed, probed = int(out[0]), out[1] == "True", out[2] == "True"
    assert probed == printed
    assert probed == (version >= 42)  # Debian's builds of 42 and later have KLU


@pytest.mark.parametrize("solver", ["klu", "sparse"])
def test_sweeps_ask_for_the_solver_and_agree(precise_engine, small, rng, solver):
    network, g, x = small
    with NgspiceProcess() as probe:
        version, klu = probe.library()
    if solver == "klu" and not klu:
        pytest.skip(f"ngspice {version} has no KLU")
    engine = NgspiceEngine(SpiceOptions(reltol=1e-9, vntol=1e-12, abstol=1e-18,
                                        matrix_solver=solver))
    try:
        assert engine.describe() == {"ngspice_version": version, "matrix_solver": solver}
        cards = engine.sweep_options()  # a library with KLU is told either way, one without none
        assert (solver in cards) == klu and ("klu" in cards) == (solver == "klu")
        y = rng.uniform(-0.2, 0.2, (5, 3))
        phases = Phases((0.0, 1e-6, -1e-6), SquaredError(), y)
        np.testing.assert_allclose(engine.solve(network, g, x, phases).voltages,
                                   precise_engine.solve(network, g, x, phases).voltages,
                                   atol=1e-8)
    finally:
        engine.close()


# -- the first crossbar as its Norton equivalent ----------------------------------------------------
@pytest.fixture(scope="module")
def full_crossbar_engine():
    """Tight tolerances, every device of the first crossbar in the netlist."""
    eng = NgspiceEngine(SpiceOptions(reltol=1e-9, vntol=1e-12, abstol=1e-18,
                                     input_crossbar="full"))
    yield eng
    eng.close()


@pytest.mark.parametrize("circuit", [
    dict(layers=(4, 6, 3), relu_bias=0.45, input_gain=4.0),
    dict(layers=(4, 5, 3), signed_weights="differential-pairs", neuron="clamp"),
    dict(layers=(4, 5, 4, 2), amplifier_gain=3.0, differential_outputs=True),
    dict(layers=(5, 3)),  # the first crossbar is the output layer's
], ids=["relu", "pairs", "two-hidden", "no-hidden"])
@pytest.mark.parametrize("mode", ["exact", "current"])
def test_the_norton_form_of_the_input_crossbar_solves_as_every_device_does(
        precise_engine, full_crossbar_engine, rng, circuit, mode):
    layers = circuit["layers"]
    network = LayeredNetwork(CircuitSpec(**circuit))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x, y = rng.uniform(0, 1, (6, layers[0])), rng.uniform(-0.2, 0.2, (6, layers[-1]))
    phases = Phases((0.0, 1e-6, -1e-6), SquaredError(), y, mode)
    assert precise_engine.describe(network)["input_crossbar"] == "norton"
    assert full_crossbar_engine.describe(network)["input_crossbar"] == "full"
    norton = precise_engine.solve(network, g, x, phases).voltages
    full = full_crossbar_engine.solve(network, g, x, phases).voltages
    np.testing.assert_allclose(norton, full, rtol=0, atol=1e-10)


def test_the_norton_form_leaves_out_the_input_devices_and_sources(small):
    network, g, x = small
    engine = NgspiceEngine()
    try:
        stimulus = engine._stimulus(network, g, x, (0.0,), Phases(), None,
                                    engine.norton_inputs(network))
    finally:
        engine.close()
    # one current source and one conductance per column net of crossbar 1, nothing at the inputs
    columns = network.column_nets(1)
    assert len(stimulus) == 1 + 1 + 2 * len(columns)
    assert not any(net in line for line in stimulus for net in network.input_nets[0])
    resistors = [line.split() for line in stimulus if line.startswith("R_X1_")]
    np.testing.assert_allclose([1 / float(r[3]) for r in resistors], g[0].sum(axis=0), rtol=1e-15)


def test_wire_resistance_keeps_every_device_of_the_input_crossbar(rng):
    network = LayeredNetwork(CircuitSpec((3, 4, 2), wire_resistance=2.0))
    engine = NgspiceEngine()
    try:
        assert not engine.norton_inputs(network)
        assert engine.describe(network)["input_crossbar"] == "full"
    finally:
        engine.close()


def test_an_unknown_input_crossbar_form_is_a_config_error():
    with pytest.raises(ConfigError, match="input_crossbar must be one of auto, full"):
        SpiceOptions(input_crossbar="norton")
