"""What every device model offers the trainer: programming a requested change, reading the
conductances the circuit sees, and per-device state that a checkpoint keeps."""

from __future__ import annotations

import numpy as np


class Device:
    """A programmable conductance, one per resistor of a crossbar. The defaults describe a device
    with no per-device properties, no state and exact reads."""

    g_min: float
    g_max: float

    def prepare(self, conductances: tuple[np.ndarray, ...], seed: int) -> None:
        """Fix the per-device properties of a fresh network (``seed`` makes them reproducible);
        may change the initial ``conductances`` in place (e.g. stuck devices)."""

    def program(self, layer: int, conductance: np.ndarray, change: np.ndarray,
                rng: np.random.Generator) -> float | None:
        """Apply the requested ``change`` (siemens) to crossbar ``layer``'s conductances in place;
        return the energy it took (J), or None for a model that knows no programming energy."""
        raise NotImplementedError

    def read(self, conductances: tuple[np.ndarray, ...], rng: np.random.Generator
             ) -> tuple[np.ndarray, ...]:
        """The conductances that one solve of the circuit sees."""
        return conductances

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that a resumed run needs besides the conductances."""
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` returned."""
