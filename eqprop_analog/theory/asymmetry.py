"""``verify asymmetry``: EP on circuits whose amplifiers are not reciprocal (thesis part III ch. 2
and part V, vector-field EP).

A bidirectional amplifier keeps the circuit's energy function only if its backward current gain
equals its forward voltage gain. A finite open-loop gain A0 lowers the forward gain to
a / (1 + a / A0); a backward gain r a with r != 1 breaks the match directly. The circuit then has
no energy function and EP's local rule estimates something other than the gradient. Both are
swept on ngspice: the cosine and the relative error of the symmetric EP estimate against central
finite differences of the loss through ngspice itself, the ground truth of the circuit as it is.
"""

from __future__ import annotations

from dataclasses import replace

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines import SquaredError
from eqprop_analog.errors import ConfigError, SpiceError
from eqprop_analog.learning import gradcheck as gc
from eqprop_analog.learning.estimators import EPEstimator
from eqprop_analog.theory.verify import Verdict, VerifyRequest

BATCH = 4
BETA = 1e-7  # S
OPEN_LOOP_GAINS = (1e2, 1e3, 1e4, 1e5, 1e6, 1e7)
GAIN_RATIOS = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0)


def run(request: VerifyRequest) -> Verdict:
    request.engines("asymmetry", ("ngspice",))
    base = request.network("ngspice").spec
    if base.user_subcircuits:
        raise ConfigError("verify asymmetry sweeps the built-in amplifier's gains: leave "
                          f"{base.user_subcircuits[0].role}_model unset")
    if base.amplifier_gain is None:
        raise ConfigError("verify asymmetry sweeps the amplifiers' gains: set amplifier_gain")
    if not base.reciprocal:
        raise ConfigError("verify asymmetry sweeps amplifier_open_loop_gain and "
                          "amplifier_backward_ratio itself: leave them at their defaults")
    network = LayeredNetwork(base)
    conductances, x, targets = request.batch(network, BATCH)
    beta = request.beta or BETA
    estimator = EPEstimator("symmetric", beta)
    cost = SquaredError()
    gains = OPEN_LOOP_GAINS[::5] if request.quick else OPEN_LOOP_GAINS
    ratios = GAIN_RATIOS[::3] if request.quick else GAIN_RATIOS
    engine = request.config.engine_for("ngspice", precise=True)

    def compare(what: str, value: float, **changes) -> dict:
        """One point of a sweep; a point where ngspice fails is recorded with its error."""
        request.log(f"asymmetry: {what} {value:g} (finite differences through ngspice)")
        circuit = LayeredNetwork(replace(base, **changes))
        try:
            reference = gc.finite_difference_gradient(engine, circuit, conductances, x, cost,
                                                      targets)
            estimate = gc.ep_gradient(engine, circuit, conductances, x, cost, targets, estimator,
                                      request.config.nudging)
        except SpiceError as exc:
            request.log(f"  {exc}")
            return {"value": value, "cosine": None, "relative_error": None, "error": str(exc)}
        return {"value": value, **vars(gc.Comparison.of(estimate, reference))}

    try:
        by_gain = [compare("open-loop gain A0", a0, amplifier_open_loop_gain=a0) for a0 in gains]
        by_ratio = [compare("backward/forward gain ratio", r, amplifier_backward_ratio=r)
                    for r in ratios]
    finally:
        engine.close()
    result = {"engine": "ngspice", "beta": beta, "estimator": "symmetric",
              "amplifier_gain": base.amplifier_gain or 1.0,
              "by_open_loop_gain": by_gain, "by_gain_ratio": by_ratio}
    table = [f"asymmetry: symmetric EP (beta {beta:g} S) against finite differences through "
             f"ngspice, {'-'.join(map(str, request.layers))}, amplifier gain "
             f"{result['amplifier_gain']:g}",
             "  open-loop gain A0    cosine        relative error"]
    table += [_row(r) for r in by_gain]
    table.append("  backward/forward     cosine        relative error")
    table += [_row(r) for r in by_ratio]
    from eqprop_analog.report.verify_plots import plot_asymmetry

    def solved(rows: list[dict]) -> list[dict]:
        return [r for r in rows if r["cosine"] is not None]

    figures = [plot_asymmetry(solved(by_gain), solved(by_ratio), request.out / "asymmetry.png",
                              "EP on non-reciprocal amplifiers (ngspice)")]
    return Verdict(result, table, figures)


def _row(r: dict) -> str:
    if r["cosine"] is None:
        return f"  {r['value']:<18.3g} failed: {r['error']}"
    return f"  {r['value']:<18.3g} {r['cosine']:<13.8f} {r['relative_error']:.3e}"
