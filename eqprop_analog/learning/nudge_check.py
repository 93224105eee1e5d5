"""Whether the nudge of a training run means anything.

EP's update is the difference of the nudged and the free state divided by beta (seed 000, eq. 6;
seed 003, Theorem 1), so that difference must stand well above what the engine resolves, or the
update is solver noise over beta. And it must be a perturbation: for a small nudge the states at
+beta and -beta move the outputs by opposite amounts, which is what makes the symmetric estimate
exact to O(beta^2) (seed 001, section 3); where both move the same way, the nudge is a different
operating point, not a derivative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Engine, Solution
from eqprop_analog.errors import ConfigError

# The nudge must move some output by this many times the engine's resolution: at 10x an update
# is still ~10 % noise (digits, ngspice at reltol 1e-6: beta 1e-12 W gives 0.6x, 1e-10 W 56x).
SIGNAL_FLOOR = 10.0
# |d+ + d-| / |d+ - d-| above this: the +beta and -beta states do not mirror each other (the
# defaults give 0.07 on digits, 0.73 on xor; beta 1e-4 W gives 0.93 and 0.99, 1e-2 W on iris 58).
MAX_ASYMMETRY = 0.9


@dataclass(frozen=True)
class NudgeResponse:
    """How far the nudged phases moved the outputs of a mini-batch from the free state.

    ``signal``: the largest change of an output (V); ``resolution``: the engine's resolution of
    the output voltages (V); ``asymmetry``: ``max |d+ + d-| / max |d- - d+|`` over samples and
    outputs, for the changes d+ and d- at +beta and -beta (None without both phases)."""

    beta: float
    signal: float
    resolution: float
    asymmetry: float | None

    @classmethod
    def of(cls, network: LayeredNetwork, engine: Engine, solution: Solution) -> NudgeResponse:
        free = network.readout(solution.phase(0.0))
        changes = {b: network.readout(solution.phase(b)) - free for b in solution.betas if b != 0}
        beta = max(abs(b) for b in changes)
        signal = max(float(np.max(np.abs(d))) for d in changes.values())
        outputs = solution.phase(0.0)[:, network.layer_slices[-1]]
        asymmetry = None
        if beta in changes and -beta in changes:
            plus, minus = changes[beta], changes[-beta]
            spread = float(np.max(np.abs(plus - minus)))
            asymmetry = float(np.max(np.abs(plus + minus))) / spread if spread > 0 else np.inf
        return cls(beta, signal, engine.resolution(outputs), asymmetry)

    def check_resolved(self, engine_name: str) -> None:
        """Raise ConfigError if the nudge is lost in the engine's resolution."""
        if self.signal >= SIGNAL_FLOOR * self.resolution:
            return
        floor = SIGNAL_FLOOR * self.resolution
        raise ConfigError(
            f"beta {self.beta:g} moves the outputs by at most {self.signal:.2g} V, less than "
            f"{SIGNAL_FLOOR:g} times what {engine_name} resolves ({self.resolution:.2g} V): the EP "
            f"updates would be solver noise; raise beta until the outputs move by {floor:.2g} V "
            "or more (the change grows in proportion to beta), or tighten the engine's "
            "tolerance (reltol)")

    def warning(self) -> str | None:
        """A line for the run's record if the nudge is too strong to be a perturbation."""
        if self.asymmetry is None or self.asymmetry <= MAX_ASYMMETRY:
            return None
        return (f"beta {self.beta:g} is not a small nudge: the +beta and -beta states move the "
                f"outputs alike (asymmetry {self.asymmetry:.2g} > {MAX_ASYMMETRY:g}), up to "
                f"{self.signal:.2g} V; the EP estimate is far from the gradient: lower beta")
