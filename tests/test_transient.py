"""ngspice transients and non-reciprocal amplifiers, against hand-solved circuits."""

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.circuit.elements import fixed_elements
from eqprop_analog.engines.nudging import SquaredError
from eqprop_analog.engines.transient import nudged_transient
from eqprop_analog.errors import ConfigError, SpiceError
from eqprop_analog.spice.netlist import library_text
from eqprop_analog.spice.worker import NgspiceProcess
from eqprop_analog.theory.circuit_dynamics import CircuitEuler

pytestmark = pytest.mark.ngspice


def test_a_transient_of_an_rc_circuit_is_its_exponential():
    netlist = ("rc\nV1 in 0 PWL(0 0 1e-12 1)\nR1 in a 1000\nC_A a 0 1e-9\n.save v(a) @c_a[i]\n"
               ".options reltol=1e-6 abstol=1e-18\n.end\n")
    with NgspiceProcess() as process:
        t, v, i = process.transient(netlist, 1e-8, 5e-6, ("a", "@c_a[i]")).T
    after = t > 1e-9
    tau = 1e-6
    np.testing.assert_allclose(v[after], 1 - np.exp(-(t[after] - 1e-12) / tau), atol=1e-5)
    np.testing.assert_allclose(i[after], 1e-3 * np.exp(-(t[after] - 1e-12) / tau), atol=1e-8)


def test_a_failing_transient_is_a_spice_error_and_the_process_serves_on():
    with NgspiceProcess() as process:
        with pytest.raises(SpiceError) as failure:
            process.transient("t\nV1 a 0 DC 1\nB1 a 0 I=nosuchfunc(V(a))\n.end\n", 1e-9, 1e-8,
                              ("a",))
        assert failure.value.analysis == "tran"
        with pytest.raises(SpiceError, match="no vector"):
            process.transient("t\nV1 a 0 DC 1\nR1 a 0 1k\n.end\n", 1e-9, 1e-8, ("nosuchnet",))
        t, v = process.transient("t\nV1 a 0 DC 1\nR1 a 0 1k\n.end\n", 1e-9, 1e-8, ("a",)).T
        assert t[-1] == pytest.approx(1e-8) and np.all(v == 1.0)


@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("library, subcircuit, nets", [
    ("amplifier", "BIDIR_AMP", "in out"), ("differential_amplifier", "BIDIR_DIFF_AMP", "in 0 out")])
def test_the_amplifiers_backward_gain_is_the_ratio_times_the_forward_gain(ratio, library,
                                                                         subcircuit, nets):
    """V1 -R1- in -> amplifier (gain a) -> out -R2- ground: the input draws r a times the output
    current a V(in) / R2, so V(in) = V1 / (1 + r a^2 R1 / R2). The differential amplifier's
    minus input is grounded."""
    a, r1, r2 = 3.0, 1e3, 4e3
    netlist = "\n".join(["amp", library_text(library), "V_SWEEP s 0 0", "V1 v1 0 DC 1",
                         f"R1 v1 in {r1}", f"X1 {nets} {subcircuit} gain={a} backward={ratio}",
                         f"R2 out 0 {r2}", ".end", ""])
    with NgspiceProcess() as process:
        v_in, v_out = process.dc_sweep(netlist, "V_SWEEP", 1, ("in", "out"))[0]
    expected = 1.0 / (1.0 + ratio * a * a * r1 / r2)
    assert v_in == pytest.approx(expected, rel=1e-9)
    assert v_out == pytest.approx(a * expected, rel=1e-9)


def test_a_backward_ratio_other_than_one_is_ngspice_only_and_needs_amplifiers(rng):
    spec = CircuitSpec((3, 4, 2), amplifier_gain=2.0, amplifier_backward_ratio=1.5)
    network = LayeredNetwork(spec)
    assert "backward=1.5" in " ".join(f"{k}={v}" for e in fixed_elements(network)
                                      for k, v in e.parameters)
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    with pytest.raises(ConfigError, match="amplifier_backward_ratio = 1"):
        CircuitEuler(network, g, rng.uniform(0, 1, (2, 3)), rng.uniform(0, 1, (2, 2)))
    with pytest.raises(ConfigError, match="needs amplifiers"):
        CircuitSpec((3, 4, 2), amplifier_backward_ratio=1.5)


def test_the_nudged_transient_starts_at_the_free_state_and_moves_towards_the_targets(rng):
    network = LayeredNetwork(CircuitSpec((3, 4, 2), amplifier_gain=2.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x, y = rng.uniform(0, 1, (1, 3)), np.array([[0.2, -0.1]])
    model = CircuitEuler(network, g, x, y)
    free = np.concatenate([v.numpy() for v in model.free_state()], axis=1)[0]
    with NgspiceProcess() as process:
        run = nudged_transient(process, network, g, x[0], SquaredError(), y[0], 1e-6, 1e-10,
                               2e-6, 1e-8, 1e-12)
    np.testing.assert_allclose(run.voltages[0], free, atol=1e-8)
    out = network.layer_slices[-1]
    assert np.abs(run.voltages[-1, out] - y[0]).sum() < np.abs(free[out] - y[0]).sum()
    # C dV/dt of ngspice is the derivative of its own voltages
    dv = np.gradient(run.voltages[:, out], run.times, axis=0) * 1e-10
    late = run.times > 1e-7
    np.testing.assert_allclose(run.capacitor_currents[late][:, out], dv[late], rtol=0.05,
                               atol=1e-3 * np.abs(dv).max())
