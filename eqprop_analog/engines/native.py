"""The native engine: the circuit's equations (:mod:`.equations`) solved in torch, batched.

Networks with Shockley diodes are solved by Newton's method (:mod:`.minimisers`), networks with
ideal diodes by exact block coordinate descent (:mod:`.ideal`). The free phase starts from a
feed-forward pass with idealised diodes; all nudged phases are then solved together, from the
free state.
"""

from __future__ import annotations

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import (
    Phases,
    Solution,
    SolveStats,
    checked_inputs,
    fixed_nudging_currents,
)
from eqprop_analog.engines.equations import Drive, NativeCircuit, Nudge
from eqprop_analog.engines.ideal import coordinate_descent
from eqprop_analog.engines.minimisers import DTYPES, NativeOptions, newton
from eqprop_analog.threads import limit_threads

__all__ = ["NativeEngine", "NativeOptions", "NativeCircuit", "Nudge", "Drive"]


class NativeEngine:
    """Solves the free and nudged steady states with :class:`NativeCircuit` (torch, one thread by
    default); nudged phases start from the free solution."""

    name = "native"

    def __init__(self, options: NativeOptions = NativeOptions(), threads: int | None = None
                 ) -> None:
        self.options = options
        self.dtype = DTYPES[options.dtype]
        limit_threads(threads)

    def circuit(self, network: LayeredNetwork, conductances) -> NativeCircuit:
        return NativeCircuit(network, conductances, self.dtype)

    def solve(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
              features: np.ndarray, phases: Phases = Phases(), *,
              batch_index: int | None = None) -> Solution:
        conductances, x = checked_inputs(network, conductances, features, phases)
        circuit = self.circuit(network, conductances)
        minimise = coordinate_descent if network.spec.ideal_diodes else newton
        drive = circuit.drive(torch.as_tensor(network.input_voltages(x), dtype=self.dtype))
        free = minimise(circuit, circuit.starting_point(drive), drive, Nudge(), self.options)
        minima = [free]
        states = {0.0: torch.cat(free.states, dim=1)}
        nudged_betas = phases.nudged_betas
        if nudged_betas:
            # all nudged phases in one solve: the batch repeated once per phase
            k, batch = len(nudged_betas), len(x)
            stacked = Drive(drive.current.repeat(k, 1), drive.energy.repeat(k))
            start = [c.repeat(k, 1) for c in free.states]
            if phases.mode == "current":
                free_voltages = states[0.0].to(torch.float64).numpy()
                currents = fixed_nudging_currents(network, phases, free_voltages)
                per_node = torch.as_tensor(currents.reshape(k * batch, -1), dtype=self.dtype)
                if circuit.readout_matrix is not None:  # into the + node, out of the - node
                    per_node = per_node @ circuit.readout_matrix
                nudge = Nudge(currents=per_node)
            else:
                beta = torch.tensor(nudged_betas, dtype=self.dtype).repeat_interleave(batch)
                targets = torch.as_tensor(phases.targets, dtype=self.dtype).repeat(k, 1)
                nudge = Nudge(beta, phases.cost, targets)
            nudged = minimise(circuit, start, stacked, nudge, self.options)
            minima.append(nudged)
            states.update(zip(nudged_betas, torch.cat(nudged.states, dim=1).split(batch)))
        voltages = torch.stack([states[b] for b in phases.betas]).to(torch.float64).numpy()
        stats = SolveStats(tuple(m.iterations for m in minima), max(m.error for m in minima))
        return Solution(phases.betas, voltages, stats)

    def resolution(self, voltages: np.ndarray) -> float:
        """Newton's tolerance, or the rounding of the states' dtype where that is coarser."""
        rounding = float(torch.finfo(self.dtype).eps) * float(np.max(np.abs(voltages), initial=1.0))
        return max(self.options.tolerance, 4 * rounding)

    def describe(self, network: LayeredNetwork | None = None) -> dict[str, object]:
        return {"dtype": str(self.dtype).removeprefix("torch.")}

    def close(self) -> None:
        pass
