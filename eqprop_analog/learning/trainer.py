"""Training loop: EP updates of the conductances on mini-batches, with checkpoints and resume."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config import RunConfig, config_to_toml, load_config
from eqprop_analog.data.datasets import Dataset
from eqprop_analog.engines.base import Engine, Phases
from eqprop_analog.engines.nudging import CrossEntropy, make_cost
from eqprop_analog.errors import ConfigError, SolverError
from eqprop_analog.files import atomic_write_text
from eqprop_analog.learning.checkpoint import (
    CHECKPOINT,
    load_checkpoint,
    load_device_state,
    save_checkpoint,
)
from eqprop_analog.learning.estimators import EPEstimator

CONFIG_FILE = "config.toml"
EVAL_BATCH = 512
# An epoch survives a few mini-batches that ngspice cannot solve; more than this share aborts it.
MAX_FAILED_SHARE = 0.1


@dataclass(frozen=True)
class TrainResult:
    history: list[dict]
    conductances: tuple[np.ndarray, ...]
    run_dir: Path
    seconds: float

    @property
    def final(self) -> dict:
        return self.history[-1]


class Trainer:
    """Trains the conductances of a layered network with EP, one engine call per mini-batch."""

    def __init__(self, config: RunConfig, dataset: Dataset, engine: Engine, run_dir: str | Path,
                 *, progress: bool | None = None, log=print) -> None:
        self.config = config
        self.data = dataset
        self.engine = engine
        self.run_dir = Path(run_dir)
        self.network = LayeredNetwork(config.circuit_spec(dataset.n_features, dataset.n_classes))
        self.cost = make_cost(config.cost, config.softmax_gain)
        self.estimator = EPEstimator(config.estimator, config.beta)
        self.device = config.device_model()
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.log = log

    # -- targets and metrics --------------------------------------------------------------------------
    def targets(self, labels: np.ndarray) -> np.ndarray:
        onehot = np.eye(self.data.n_classes)[labels]
        if isinstance(self.cost, CrossEntropy):
            return onehot
        return self.config.target_low + (self.config.target_high - self.config.target_low) * onehot

    def evaluate(self, conductances, x: np.ndarray, labels: np.ndarray,
                 rng: np.random.Generator) -> tuple[float, float]:
        """(mean cost, accuracy) of the free steady states (the devices read afresh per batch)."""
        losses, correct = [], 0
        for start in range(0, len(x), EVAL_BATCH):
            xb, yb = x[start:start + EVAL_BATCH], labels[start:start + EVAL_BATCH]
            seen = self.device.read(conductances, rng)
            readout = self.network.readout(self.engine.solve(self.network, seen, xb).phase(0.0))
            losses.append(self.cost.value(readout, self.targets(yb)))
            correct += int(np.sum(readout.argmax(axis=1) == yb))
        return float(np.mean(np.concatenate(losses))), correct / len(x)

    # -- one epoch ----------------------------------------------------------------------------------
    def train_epoch(self, conductances, epoch: int) -> tuple[tuple[np.ndarray, ...], int]:
        """One pass over the shuffled training set; returns the conductances and the number of
        mini-batches skipped because the engine failed on them."""
        rng = np.random.default_rng([self.config.seed, epoch])
        noise = np.random.default_rng([self.config.seed, epoch, 2])  # the devices' own draws
        order = rng.permutation(len(self.data.x_train))
        batches = [order[i:i + self.config.batch_size]
                   for i in range(0, len(order), self.config.batch_size)]
        learning_rates = self.config.learning_rates(epoch)
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(batches), desc=f"epoch {epoch}", leave=False, unit="batch")
        # the epoch updates its own copy in place, the updates formed in buffers of their own:
        # fresh arrays of this size on every mini-batch cost more in page faults than the arithmetic
        conductances = tuple(np.array(g, dtype=np.float64) for g in conductances)
        changes = [np.empty_like(g) for g in conductances]
        failed = 0
        for index, batch in enumerate(batches):
            x, labels = self.data.x_train[batch], self.data.y_train[batch]
            phases = Phases(self.estimator.betas(rng), self.cost, self.targets(labels),
                            self.config.nudging)
            try:
                solution = self.engine.solve(self.network, self.device.read(conductances, noise), x,
                                             phases, batch_index=index)
            except SolverError as exc:
                failed += 1
                if failed > max(1, MAX_FAILED_SHARE * len(batches)):
                    raise
                self.log(f"epoch {epoch}: skipped mini-batch {index}: {exc}")
                continue
            self.estimator.gradient(self.network, x, solution, [-lr for lr in learning_rates],
                                    out=changes)
            for layer, (g, change) in enumerate(zip(conductances, changes)):
                self.device.program(layer, g, change, noise)
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
        return conductances, failed

    # -- the run ------------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> TrainResult:
        """Train for ``config.epochs`` epochs; with ``resume``, continue from the run's checkpoint."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        start_time = time.perf_counter()
        if resume:
            done, conductances, history = load_checkpoint(self.run_dir)
            conductances = tuple(np.array(g) for g in self.network.check_conductances(conductances))
            self.device.prepare(conductances, self.config.seed)  # the same devices as before
            self.device.load_state(load_device_state(self.run_dir))
            self.log(f"resuming {self.run_dir} after epoch {done}")
        else:
            atomic_write_text(self.run_dir / CONFIG_FILE, config_to_toml(self.config))
            done, history = 0, []
            conductances = self.network.initial_conductances(
                np.random.default_rng(self.config.seed), self.config.init_low, self.config.init_high)
            self.device.prepare(conductances, self.config.seed)
        for epoch in range(done + 1, self.config.epochs + 1):
            t0 = time.perf_counter()
            conductances, failed = self.train_epoch(conductances, epoch)
            reads = np.random.default_rng([self.config.seed, epoch, 1])
            train_loss, train_acc = self.evaluate(conductances, self.data.x_train, self.data.y_train,
                                                  reads)
            test_loss, test_acc = self.evaluate(conductances, self.data.x_test, self.data.y_test,
                                                reads)
            seconds = time.perf_counter() - t0
            history.append({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                            "test_loss": test_loss, "test_accuracy": test_acc,
                            "skipped_batches": failed, "seconds": round(seconds, 3)})
            save_checkpoint(self.run_dir, epoch, conductances, history, self.device.state())
            self.log(f"epoch {epoch:3d}/{self.config.epochs}  loss {train_loss:.4g}  "
                     f"train {100 * train_acc:5.1f} %  test {100 * test_acc:5.1f} %  "
                     f"({seconds:.1f} s)")
        return TrainResult(history, conductances, self.run_dir, time.perf_counter() - start_time)


def resume_config(run_dir: Path, overrides: dict) -> RunConfig:
    """The config of an earlier run, with ``overrides`` (only ``epochs`` may change)."""
    if not (run_dir / CHECKPOINT).is_file():
        raise ConfigError(f"{run_dir} has no {CHECKPOINT} to resume from")
    config = load_config(run_dir / CONFIG_FILE)
    changed = sorted(set(overrides) - {"epochs"})
    if changed:
        raise ConfigError(f"--resume continues a run as configured; only --epochs may change, not "
                          f"{', '.join(changed)}")
    if "epochs" in overrides:
        config = replace(config, epochs=overrides["epochs"])
    return config
