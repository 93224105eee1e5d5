"""The ngspice engine: the physical ground truth, one DC sweep per mini-batch (per share of it,
where several ngspice processes solve it together).

Every input is a behavioural source ``V = pwl(V(sweep), ...)`` indexed by a dummy swept source, so one
``dc`` analysis visits all operating points of a batch, each starting Newton from the point before.
With exact nudging the points of a sample follow each other (free, +beta, -beta): the first nudged
point starts from the free solution, the next from its neighbour. Current nudging needs the free
states first, so it takes a free sweep and then a sweep of the nudged points.

Without wire resistance the first crossbar joins ideal sources (the inputs and the bias rails) to
the first layer's nodes, so each node sees it as its Norton equivalent: a current sum_i g_ij v_i
from a source and a conductance sum_i g_ij to ground. Sweeps take that form (``input_crossbar =
"auto"``), which is exact for the node voltages (tests: within 1e-10 V of the full crossbar)
and spares ngspice the load of every input device at every Newton iteration, 80 % of a point at
784-100-10. Exported netlists always hold the full crossbar.
"""

from __future__ import annotations

import math
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from eqprop_analog.circuit.layered import GROUND, LayeredNetwork
from eqprop_analog.engines.base import Phases, Solution, checked_inputs, fixed_nudging_currents
from eqprop_analog.errors import ConfigError
from eqprop_analog.spice.netlist import netlist_text, number, resistance_text
from eqprop_analog.spice.worker import NgspiceProcess
from eqprop_analog.threads import limit_threads

SECONDS_PER_ELEMENT_POINT = 1.4e-6
SWEEP_SOURCE = "V_SWEEP"
SWEEP_NET = "sweep"
MATRIX_SOLVERS = ("auto", "klu", "sparse")
INPUT_CROSSBARS = ("auto", "full")
KLU_SINCE = 42  # the first ngspice with the KLU matrix solver
_fallback_said = False  # the fallback to the sparse solver is said once per process


@dataclass(frozen=True)
class SpiceOptions:
    """ngspice ``.options``: tolerances of the DC solution (reltol 1e-6 by default: at ngspice's
    own 1e-3 warm-started sweep points were off by up to 4e-4 V, and a looser one moves the states
    away from the native engine's, BENCHMARKS.md, "Where ngspice spends an operating point at
    784-100-10") and the matrix solver (``auto``: KLU where the library has it, else ngspice's
    sparse one); and how sweeps write the first crossbar (``auto``: as its Norton equivalent where
    that is exact, ``full``: every device)."""

    reltol: float = 1e-6
    vntol: float = 1e-9
    abstol: float = 1e-15
    itl2: int = 200  # Newton iterations allowed per sweep point
    max_points: int = 2048  # operating points per sweep; larger batches are split
    timeout: float | None = None  # seconds for one sweep; None: from its size (sweep_timeout)
    matrix_solver: str = "auto"
    input_crossbar: str = "auto"

    def __post_init__(self) -> None:
        if self.matrix_solver not in MATRIX_SOLVERS:
            raise ConfigError(f"ngspice matrix_solver must be one of {', '.join(MATRIX_SOLVERS)}, "
                              f"got {self.matrix_solver!r}")
        if self.input_crossbar not in INPUT_CROSSBARS:
            raise ConfigError(f"ngspice input_crossbar must be one of "
                              f"{', '.join(INPUT_CROSSBARS)}, got {self.input_crossbar!r}")
        for name in ("reltol", "vntol", "abstol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                raise ConfigError(f"ngspice option {name} must be in (0, 1), got {value!r}")
        if self.timeout is not None and not (isinstance(self.timeout, (int, float))
                                             and 0 < self.timeout < math.inf):
            raise ConfigError(f"ngspice timeout must be a number of seconds > 0, got "
                              f"{self.timeout!r}")
        for name in ("itl2", "max_points"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"ngspice option {name} must be an integer >= 1, got {value!r}")

    def cards(self, solver: str = "sparse", klu_available: bool = False
              ) -> dict[str, float | None]:
        """The ``.options`` of a sweep solved with ``solver`` (a resolved one: klu or sparse). A
        library with KLU is told either way (a build may take KLU by default); one without it
        knows only its sparse solver and gets no card."""
        cards: dict[str, float | None] = {
            k: v for k, v in asdict(self).items()
            if k not in ("max_points", "timeout", "matrix_solver", "input_crossbar")}
        if klu_available:
            cards[solver] = None
        return cards

    def sweep_timeout(self, network: LayeredNetwork, n_points: int) -> float:
        """Seconds to wait for one sweep before its process is taken for hung, killed and
        restarted: ``timeout`` if set, else a minute plus 20 times what the sweep should cost
        (about 1.4 us per element and operating point, measured at 784-100-10 on ngspice 39)."""
        if self.timeout is not None:
            return self.timeout
        elements = network.n_parameters + 4 * len(network.free_nets)
        return 60.0 + 20 * SECONDS_PER_ELEMENT_POINT * elements * n_points


def resolved_solver(requested: str, version: int | None, klu: bool) -> str:
    """The matrix solver a sweep uses: ``klu`` or ``sparse``. ``auto`` takes KLU where the library
    has it and says once on stderr when it falls back; ``klu`` on a library without it is an
    error."""
    global _fallback_said
    if requested == "sparse":
        return "sparse"
    if klu:
        return "klu"
    which = f"ngspice {version}" if version is not None else "this ngspice"
    if requested == "klu":
        raise ConfigError(f"matrix_solver = \"klu\" needs ngspice >= {KLU_SINCE} with KLU, and "
                          f"{which} has none: install a newer libngspice0 or set [engine] "
                          "matrix_solver = \"auto\"")
    if not _fallback_said:
        _fallback_said = True
        print(f"eqprop-analog: {which} has no KLU matrix solver, falling back to its sparse solver "
              f"(slower on large circuits; ngspice >= {KLU_SINCE} has KLU)", file=sys.stderr)
    return "sparse"


def pwl(points: np.ndarray, values: np.ndarray) -> str:
    """``pwl(V(sweep), p0, v0, p1, v1, ...)`` with breakpoints at the integer sweep values."""
    if len(points) == 1:  # pwl needs two breakpoints
        points, values = np.array([points[0], points[0] + 1]), np.repeat(values, 2)
    pairs = ",".join(f"{int(p)},{number(v)}" for p, v in zip(points, values))
    return f"pwl(V({SWEEP_NET}),{pairs})"


def held(values: np.ndarray, n_phases: int) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints holding one value per sample over its ``n_phases`` consecutive points."""
    starts = np.arange(len(values)) * n_phases
    if n_phases == 1:
        return starts, values
    points = np.stack([starts, starts + n_phases - 1], axis=1).ravel()
    return points, np.repeat(values, 2)


def input_sources(network: LayeredNetwork, x: np.ndarray, n_phases: int = 1) -> list[str]:
    """The input nets driven at the batch's features: +A x_i by a behavioural source indexed by
    the sweep (each sample held over its ``n_phases`` points), -A x_i (doubled inputs) by a VCVS
    of gain -1 from it."""
    gain, lines = network.spec.input_gain, []
    for i, (tag, p, m) in enumerate(network.input_tags()):
        lines.append(f"B_IN_{tag}P {p} {GROUND} V={pwl(*held(gain * x[:, i], n_phases))}")
        if m is not None:
            lines.append(f"E_IN_{tag}N {m} {GROUND} {p} {GROUND} -1")
    return lines


def norton_lines(network: LayeredNetwork, conductances: np.ndarray, x: np.ndarray,
                 n_phases: int) -> list[str]:
    """The first crossbar as seen from each of its column nets: a current source of
    sum_i g_ij v_i, held over a sample's ``n_phases`` points, and a resistor of 1 / sum_i g_ij to
    ground (``conductances``: the crossbar's, bias rows included; ``x``: the batch's features)."""
    currents = network.row_voltages(1, x, np.empty((len(x), 0))) @ conductances
    totals = conductances.sum(axis=0)
    lines = []
    for j, net in enumerate(network.column_nets(1)):
        lines.append(f"B_X1_{net} {GROUND} {net} I={pwl(*held(currents[:, j], n_phases))}")
        lines.append(f"R_X1_{net} {net} {GROUND} {resistance_text(totals[j])}")
    return lines


def output_signals(network: LayeredNetwork) -> list[str]:
    """SPICE expressions of the output signals: node voltages, or differences of the pairs."""
    out = network.output_nets
    if network.spec.paired_outputs:
        return [f"(V({out[2 * k]})-V({out[2 * k + 1]}))" for k in range(network.spec.n_outputs)]
    return [f"V({net})" for net in out]


def nudge_sources(network: LayeredNetwork, currents: list[str]) -> list[str]:
    """Behavioural current sources that inject ``currents[k]`` into output signal k (into the +
    node of a pair and out of its - node)."""
    out, lines = network.output_nets, []
    for k, current in enumerate(currents):
        if network.spec.paired_outputs:
            lines.append(f"B_NUDGE_{k}P {GROUND} {out[2 * k]} I={current}")
            lines.append(f"B_NUDGE_{k}N {out[2 * k + 1]} {GROUND} I={current}")
        else:
            lines.append(f"B_NUDGE_{k} {GROUND} {out[k]} I={current}")
    return lines


class NgspiceEngine:
    """Solves free and nudged steady states with ngspice, in ``workers`` child processes (see
    :class:`~eqprop_analog.spice.worker.NgspiceProcess`): a batch is split into one share per
    process, solved at the same time. ``library``: the libngspice file (default: the system's)."""

    name = "ngspice"

    def __init__(self, options: SpiceOptions = SpiceOptions(),
                 process: NgspiceProcess | None = None, workers: int = 1,
                 library: str | None = None) -> None:
        limit_threads()  # the estimators' numpy products in this process
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ConfigError(f"ngspice workers must be an integer >= 1, got {workers!r}")
        self.options = options
        self.process = process or NgspiceProcess(library)
        self.processes = [self.process] + [NgspiceProcess(self.process.library_path)
                                           for _ in range(workers - 1)]
        self._pool: ThreadPoolExecutor | None = None  # made at the first split solve
        # the library's version and whether it has KLU, asked once (starting the first process)
        self._library: tuple[int | None, bool] | None = None
        self._solver: str | None = None

    @property
    def matrix_solver(self) -> str:
        """``klu`` or ``sparse``: what the sweeps ask ngspice for (starts the first process)."""
        if self._solver is None:
            self._library = self.process.library()
            self._solver = resolved_solver(self.options.matrix_solver, *self._library)
        return self._solver

    def sweep_options(self) -> dict[str, float | None]:
        """The ``.options`` card of every sweep: tolerances and the matrix solver."""
        solver = self.matrix_solver
        assert self._library is not None  # asked by matrix_solver
        return self.options.cards(solver, self._library[1])

    def describe(self, network: LayeredNetwork | None = None) -> dict[str, object]:
        """The library's version and the matrix solver, for a run's summary; with ``network``
        also how its sweeps hold the first crossbar (``norton`` or ``full``)."""
        solver = self.matrix_solver
        assert self._library is not None
        about: dict[str, object] = {"ngspice_version": self._library[0], "matrix_solver": solver}
        if network is not None:
            about["input_crossbar"] = "norton" if self.norton_inputs(network) else "full"
        return about

    def norton_inputs(self, network: LayeredNetwork) -> bool:
        """Whether sweeps of ``network`` write its first crossbar as its Norton equivalent: asked
        for (``input_crossbar = "auto"``) and exact, that is without wire resistance, whose
        segments make the crossbar a network of its own."""
        return self.options.input_crossbar == "auto" and not network.spec.wire_resistance

    # -- netlist of one sweep -------------------------------------------------------------------------
    def _stimulus(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                  x: np.ndarray, betas: tuple[float, ...], phases: Phases,
                  fixed_currents: np.ndarray | None, norton: bool) -> list[str]:
        """The sweep's sources: the inputs (or, with ``norton``, the first crossbar's Norton
        equivalent), and the nudging of the outputs."""
        n_phases = len(betas)
        lines = [f"{SWEEP_SOURCE} {SWEEP_NET} {GROUND} DC 0"]
        if norton:
            lines.append("* crossbar 1 as its Norton equivalent at each of its columns")
            lines += norton_lines(network, conductances[0], x, n_phases)
        else:
            lines += input_sources(network, x, n_phases)
        if not any(b != 0 for b in betas):
            return lines
        n_out = network.spec.n_outputs
        points = np.arange(len(x) * n_phases)
        if fixed_currents is not None:  # (points, n_out): current into each readout
            currents = [pwl(points, fixed_currents[:, k]) for k in range(n_out)]
        else:
            assert phases.cost is not None and phases.targets is not None  # checked by Phases
            lines.append(f"B_BETA nudge_beta {GROUND} V={pwl(points, np.tile(betas, len(x)))}")
            for k in range(n_out):
                lines.append(f"B_TARGET_{k} target_{k} {GROUND} "
                             f"V={pwl(*held(phases.targets[:, k], n_phases))}")
            currents = phases.cost.current_expressions(
                output_signals(network), [f"V(target_{k})" for k in range(n_out)],
                "V(nudge_beta)")
        return lines + nudge_sources(network, currents)

    def _sweep(self, process, network, conductances, x, betas, phases, fixed_currents,
               batch_index):
        norton = self.norton_inputs(network)
        stimulus = self._stimulus(network, conductances, x, betas, phases, fixed_currents, norton)
        text = netlist_text(network, conductances, title="eqprop-analog sweep", stimulus=stimulus,
                            options=self.sweep_options(), save=network.free_nets, annotate=False,
                            first_crossbar=2 if norton else 1)
        n_points = len(x) * len(betas)
        v = process.dc_sweep(text, SWEEP_SOURCE, n_points, network.free_nets, batch=batch_index,
                             timeout=self.options.sweep_timeout(network, n_points))
        return v.reshape(len(x), len(betas), -1).transpose(1, 0, 2)

    # -- protocol ---------------------------------------------------------------------------------
    def solve(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
              features: np.ndarray, phases: Phases = Phases(), *,
              batch_index: int | None = None) -> Solution:
        """Voltages of the free nets for every phase and sample, shape (n_phases, batch, n_free).
        With several processes each solves one contiguous share of the samples (in sweeps of at
        most ``max_points`` points), all at once."""
        conductances, x = checked_inputs(network, conductances, features, phases)
        _ = self.matrix_solver  # resolved before the threads use it: it may start a process
        per_sweep = max(1, self.options.max_points // len(phases.betas))
        shares = np.array_split(np.arange(len(x)), min(len(self.processes), len(x)))

        def solve_share(process: NgspiceProcess, samples: np.ndarray) -> list[np.ndarray]:
            start, stop = int(samples[0]), int(samples[-1]) + 1
            return [self._solve_chunk(process, network, conductances, x[i:min(i + per_sweep, stop)],
                                      phases, i, batch_index)
                    for i in range(start, stop, per_sweep)]

        if len(shares) == 1:
            parts = solve_share(self.process, shares[0])
        else:
            # threads that write each share's netlist and wait for its process (kept: a pool
            # per mini-batch would be started and joined thousands of times per epoch)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(len(self.processes))
            results = list(self._pool.map(solve_share, self.processes, shares))
            parts = [part for share in results for part in share]
        return Solution(phases.betas, np.concatenate(parts, axis=1))

    def _solve_chunk(self, process, network, conductances, x, phases, start, batch_index):
        if phases.targets is not None:
            phases = Phases(phases.betas, phases.cost, phases.targets[start:start + len(x)],
                            phases.mode)
        if phases.mode == "exact" or not phases.nudged:
            return self._sweep(process, network, conductances, x, phases.betas, phases, None,
                               batch_index)
        # current nudging: fixed currents -beta dC/dV from the free state, then the nudged sweep
        free = self._sweep(process, network, conductances, x, (0.0,), phases, None,
                           batch_index)[0]
        currents = fixed_nudging_currents(network, phases, free)  # (phases, samples, outputs)
        # a sample's nudged points follow each other in the sweep
        by_point = currents.transpose(1, 0, 2).reshape(-1, currents.shape[2])
        nudged = self._sweep(process, network, conductances, x, phases.nudged_betas, phases,
                             by_point, batch_index)
        return np.concatenate([free[None], nudged], axis=0)

    def resolution(self, voltages: np.ndarray) -> float:
        """ngspice's convergence test on a node voltage: vntol + reltol |V|."""
        return self.options.vntol + self.options.reltol * float(np.max(np.abs(voltages), initial=0))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        for process in self.processes:
            process.close()
