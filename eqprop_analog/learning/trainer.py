"""Training loop: EP updates of the conductances on mini-batches, with checkpoints and resume.

The trainer is handed its parts (network, engine, cost, estimator, device model, options) and
knows nothing of run configs: :mod:`eqprop_analog.run` builds them from one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from eqprop_analog.analysis.step_energy import StepEnergies, phase_energy
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.data.datasets import Dataset
from eqprop_analog.devices.base import Device
from eqprop_analog.engines.base import Engine, NudgingMode, Phases
from eqprop_analog.engines.nudging import Cost
from eqprop_analog.errors import ConfigError, SolverError
from eqprop_analog.learning.checkpoint import RunState, read_checkpoint, save_checkpoint
from eqprop_analog.learning.engine_check import EngineCheck
from eqprop_analog.learning.estimators import EPEstimator
from eqprop_analog.learning.nudge_check import NudgeResponse

EVAL_BATCH = 512
# An evaluation batch whose ngspice process was lost is solved again (by a new one) this often.
EVAL_RETRIES = 2
T = TypeVar("T")
# An epoch survives a few mini-batches that ngspice cannot solve; more than this share aborts it.
MAX_FAILED_SHARE = 0.1


@dataclass(frozen=True)
class LearningRates:
    """Learning rate of each crossbar in epoch e (1-based): ``rates * decay ** (e - 1)``."""

    rates: tuple[float, ...]
    decay: float = 1.0

    def at(self, epoch: int) -> tuple[float, ...]:
        return tuple(lr * self.decay ** (epoch - 1) for lr in self.rates)


@dataclass(frozen=True)
class TrainingOptions:
    """How long and in what order to train: epochs, mini-batch size, learning-rate schedule, the
    seed of every draw (initial conductances, shuffling, devices), the nudging mode and the
    interval of the initial conductances (siemens), or the initial conductances themselves; and
    whether to record each step's energy, each phase holding the circuit ``phase_time`` (s)."""

    learning_rates: LearningRates
    epochs: int = 10
    batch_size: int = 16
    seed: int = 0
    nudging: NudgingMode = "exact"
    initial_range: tuple[float, float] = (1e-6, 2e-5)
    initial: tuple[np.ndarray, ...] | None = None  # e.g. measured on a chip, in place of a draw
    phase_time: float = 1e-6
    step_energy: bool = True


@dataclass(frozen=True)
class TrainResult:
    history: list[dict]
    conductances: tuple[np.ndarray, ...]
    run_dir: Path
    seconds: float
    warnings: tuple[str, ...] = ()  # what the run found doubtful (e.g. too strong a nudge)

    @property
    def final(self) -> dict:
        return self.history[-1]


def check_epochs_left(run_dir: Path, done: int, epochs: int) -> None:
    """Refuse to resume a run that has trained more than the ``epochs`` asked for."""
    if done > epochs:
        raise ConfigError(f"{run_dir} has trained {done} epochs already, more than the {epochs} "
                          f"asked for; to train on, give --epochs above {done}")


class Trainer:
    """Trains the conductances of a layered network with EP, one engine call per mini-batch;
    with a ``check``, a second engine solves a fixed mini-batch beside it every few epochs."""

    def __init__(self, network: LayeredNetwork, engine: Engine, cost: Cost,
                 estimator: EPEstimator, device: Device, options: TrainingOptions,
                 dataset: Dataset, run_dir: str | Path, *, progress: bool | None = None,
                 log: Callable[[str], object] = print, check: EngineCheck | None = None) -> None:
        if len(options.learning_rates.rates) != network.n_crossbars:
            raise ConfigError(f"{len(options.learning_rates.rates)} learning rates for "
                              f"{network.n_crossbars} crossbars")
        self.network = network
        self.engine = engine
        self.cost = cost
        self.estimator = estimator
        self.device = device
        self.options = options
        self.data = dataset
        self.run_dir = Path(run_dir)
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.log = log
        self.check = check
        self.warnings: list[str] = []
        self._nudge_checked = False

    # -- targets and metrics ------------------------------------------------------------------------
    def targets(self, labels: np.ndarray) -> np.ndarray:
        return self.cost.targets(labels, self.data.n_classes)

    def evaluate(self, conductances, x: np.ndarray, labels: np.ndarray,
                 rng: np.random.Generator, which: str = "") -> tuple[float, float]:
        """(mean cost, accuracy) of the free steady states (the devices read afresh per batch)."""
        losses, correct = [], 0
        for start in range(0, len(x), EVAL_BATCH):
            xb, yb = x[start:start + EVAL_BATCH], labels[start:start + EVAL_BATCH]
            seen = self.device.read(conductances, rng)
            readout = self.network.readout(self.free_state(seen, xb,
                                                            f"{which} batch {start // EVAL_BATCH}"))
            losses.append(self.cost.value(readout, self.targets(yb)))
            correct += int(np.sum(readout.argmax(axis=1) == yb))
        return float(np.mean(np.concatenate(losses))), correct / len(x)

    def _retried(self, solve: Callable[[], T], what: str) -> T:
        """``solve()``, solved again where an engine's process was lost (it crashed or hung, and
        was replaced); any other failure would only repeat."""
        for attempt in range(EVAL_RETRIES + 1):
            try:
                return solve()
            except SolverError as exc:
                if not getattr(exc, "lost_process", False):
                    raise SolverError(f"{what} failed: {exc}") from exc
                if attempt == EVAL_RETRIES:
                    raise SolverError(f"{what} failed {attempt + 1} times: {exc}") from exc
                self.log(f"{what} failed ({exc}); solving it again")
        raise AssertionError("unreachable")

    def free_state(self, conductances, x: np.ndarray, where: str) -> np.ndarray:
        """The free voltages of an evaluation batch (every sample counts in an accuracy, so none
        is skipped; a lost process is retried)."""
        return self._retried(lambda: self.engine.solve(self.network, conductances, x).phase(0.0),
                             f"evaluation ({where})")

    # -- one epoch ----------------------------------------------------------------------------------
    def train_epoch(self, conductances, epoch: int
                    ) -> tuple[tuple[np.ndarray, ...], int, StepEnergies]:
        """One pass over the shuffled training set; returns the conductances, the number of
        mini-batches skipped because the engine failed on them, and the steps' energies."""
        rng = np.random.default_rng([self.options.seed, epoch])
        noise = np.random.default_rng([self.options.seed, epoch, 2])  # the devices' own draws
        order = rng.permutation(len(self.data.x_train))
        batches = [order[i:i + self.options.batch_size]
                   for i in range(0, len(order), self.options.batch_size)]
        learning_rates = self.options.learning_rates.at(epoch)
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(batches), desc=f"epoch {epoch}", leave=False, unit="batch")
        # the epoch updates its own copy in place, the updates formed in buffers of their own:
        # fresh arrays of this size on every mini-batch cost more in page faults than the arithmetic
        conductances = tuple(np.array(g, dtype=np.float64) for g in conductances)
        changes = [np.empty_like(g) for g in conductances]
        failed, energies = 0, StepEnergies()
        try:
            for index, batch in enumerate(batches):
                x, labels = self.data.x_train[batch], self.data.y_train[batch]
                phases = Phases(self.estimator.betas(rng), self.cost, self.targets(labels),
                                self.options.nudging)
                seen = self.device.read(conductances, noise)
                try:
                    solution = self.engine.solve(self.network, seen, x, phases, batch_index=index)
                except SolverError as exc:
                    failed += 1
                    if failed > max(1, MAX_FAILED_SHARE * len(batches)):
                        raise
                    self.log(f"epoch {epoch}: skipped mini-batch {index}: {exc}")
                    continue
                if not self._nudge_checked:
                    self._check_nudge(solution)
                self.estimator.gradient(self.network, x, solution, [-lr for lr in learning_rates],
                                        out=changes)
                # the phases' energy at the conductances they were solved at (``seen`` may be
                # the very arrays that programming changes)
                spent = phase_energy(self.network, seen, x, solution, phases,
                                     self.options.phase_time) if self.options.step_energy else None
                programmed = [self.device.program(layer, g, change, noise)
                              for layer, (g, change) in enumerate(zip(conductances, changes))]
                if spent is not None:
                    energies.add(spent, programmed)
                if bar is not None:
                    bar.update()
        finally:
            if bar is not None:
                bar.close()
        return conductances, failed, energies

    def _check_nudge(self, solution) -> None:
        """On the run's first solved mini-batch: refuse a nudge below the engine's resolution,
        record a warning for one too strong to be a perturbation."""
        self._nudge_checked = True
        response = NudgeResponse.of(self.network, self.engine, solution)
        response.check_resolved(self.engine.name)
        warning = response.warning()
        if warning:
            self.warnings.append(warning)
            self.log(f"warning: {warning}")

    def _engine_difference(self, conductances, epoch: int) -> float | None:
        """The check's largest voltage difference on its batch (the first mini-batch's worth of
        training samples, with the run's nudged phases), or None where no check is due."""
        if self.check is None or not self.check.due(epoch):
            return None
        size = min(self.options.batch_size, len(self.data.x_train))
        x, labels = self.data.x_train[:size], self.data.y_train[:size]
        betas = self.estimator.betas(np.random.default_rng(self.options.seed))
        phases = Phases(betas, self.cost, self.targets(labels), self.options.nudging)
        check = self.check
        return self._retried(lambda: check.difference(self.engine, self.network, conductances, x,
                                                      phases), "the engine check")

    # -- the run ------------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> TrainResult:
        """Train for ``options.epochs`` epochs; with ``resume``, continue from the run's
        checkpoint (the nudge was checked by the run that wrote it)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        start_time = time.perf_counter()
        self.warnings, self._nudge_checked = [], resume
        if resume:
            checkpoint = read_checkpoint(self.run_dir)
            done, history = checkpoint.epoch, checkpoint.history
            check_epochs_left(self.run_dir, done, self.options.epochs)
            conductances = tuple(np.array(g) for g in
                                 self.network.check_conductances(checkpoint.conductances))
            self.device.prepare(conductances, self.options.seed)  # the same devices as before
            self.device.load_state(checkpoint.device_state)
            self.warnings = list(checkpoint.state.warnings)
            self.log(f"resuming {self.run_dir} after epoch {done}")
            if checkpoint.state.unevaluated is not None:  # its evaluation failed: not lost
                self._finish_epoch(checkpoint.state.unevaluated, conductances, history,
                                   time.perf_counter())
        else:
            done, history = 0, []
            conductances = tuple(np.array(g) for g in self.network.check_conductances(
                self.options.initial)) if self.options.initial is not None else \
                self.network.initial_conductances(np.random.default_rng(self.options.seed),
                                                  *self.options.initial_range)
            self.device.prepare(conductances, self.options.seed)
        for epoch in range(done + 1, self.options.epochs + 1):
            t0 = time.perf_counter()
            conductances, failed, energies = self.train_epoch(conductances, epoch)
            trained = {"epoch": epoch, "skipped_batches": failed,
                       "seconds": round(time.perf_counter() - t0, 3), **energies.per_step()}
            # saved before the evaluation, whose failure then costs the evaluation only
            save_checkpoint(self.run_dir, epoch, conductances, history, self.device.state(),
                            RunState(trained, tuple(self.warnings)))
            self._finish_epoch(trained, conductances, history, time.perf_counter())
        return TrainResult(history, conductances, self.run_dir, time.perf_counter() - start_time,
                           tuple(self.warnings))

    def _finish_epoch(self, trained: dict, conductances, history: list[dict], t0: float) -> None:
        """Evaluate a trained epoch, append its row to ``history`` and save the checkpoint."""
        epoch = trained["epoch"]
        reads = np.random.default_rng([self.options.seed, epoch, 1])
        train_loss, train_acc = self.evaluate(conductances, self.data.x_train, self.data.y_train,
                                              reads, "training")
        test_loss, test_acc = self.evaluate(conductances, self.data.x_test, self.data.y_test, reads,
                                            "test")
        difference = self._engine_difference(conductances, epoch)
        seconds = trained["seconds"] + time.perf_counter() - t0
        row = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
               "test_loss": test_loss, "test_accuracy": test_acc,
               "skipped_batches": trained["skipped_batches"], "seconds": round(seconds, 3),
               **{k: v for k, v in trained.items() if k == "steps" or k.startswith("step_")}}
        if self.check is not None:
            row["engine_difference"] = difference
        history.append(row)
        save_checkpoint(self.run_dir, epoch, conductances, history, self.device.state(),
                        RunState(None, tuple(self.warnings)))
        checked = ""
        if self.check is not None and difference is not None:
            checked = f"  |{self.engine.name} - {self.check.replica.name}| {difference:.2g} V"
        self.log(f"epoch {epoch:3d}/{self.options.epochs}  loss {train_loss:.4g}  "
                 f"train {100 * train_acc:5.1f} %  test {100 * test_acc:5.1f} %  "
                 f"({seconds:.1f} s){checked}")
        if self.check is not None and difference is not None:
            self.check.verify(difference, epoch, self.engine.name)  # after the epoch is saved
