"""Whether a network fits in memory, judged from its size before anything is allocated.

The costs per conductance were measured (peak resident memory over the conductance count, from
784-200-10 to 784-2000-10, ``benchmarks/bench_footprint.py``, BENCHMARKS.md): writing a netlist
holds each resistor's name, line and text, about 650 bytes; a training step on the native engine
90-300 bytes, most of it torch's own; on ngspice about 500 bytes in this process and 1,300 in
ngspice's. The estimates round these up.
"""

from __future__ import annotations

from pathlib import Path

from eqprop_analog.circuit.spec import CircuitSpec
from eqprop_analog.errors import ConfigError

BYTES_PER_CONDUCTANCE = {"netlist": 700, "native": 150, "ngspice": 2000}
WHAT = {"netlist": "writing its netlist", "native": "solving it on the native engine",
        "ngspice": "solving it with ngspice"}
BASE_BYTES = 300 * 2**20  # Python, numpy, torch and ngspice themselves
GB = 2**30


def available_memory() -> int | None:
    """Bytes this process can still allocate: the system's available memory, or less where a
    control group limits it; None where neither can be read."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            # the group's page cache counts in memory.current, but is given back on demand
            stat = dict(line.split() for line in (cgroup / "memory.stat").read_text().splitlines())
            used = int((cgroup / "memory.current").read_text()) - int(stat.get("file", 0))
            limits.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def check_fits(spec: CircuitSpec, use: str, available: int | None = None) -> None:
    """Raise ConfigError, with the estimate and what would fit, if the network of ``spec`` needs
    more memory for ``use`` (netlist, native or ngspice) than is ``available`` (default: what
    :func:`available_memory` finds)."""
    available = available_memory() if available is None else available
    if available is None:
        return
    n = spec.n_conductances
    need = BASE_BYTES + n * BYTES_PER_CONDUCTANCE[use]
    if need <= available:
        return
    fits = max(0, (available - BASE_BYTES) // BYTES_PER_CONDUCTANCE[use])
    raise ConfigError(
        f"the {'-'.join(map(str, spec.layers))} network has {n:,} conductances and "
        f"{WHAT[use]} needs about {need / GB:.3g} GB of memory, but {available / GB:.3g} GB are "
        f"available: about {fits:,} conductances fit; make the layers smaller")
