"""One call that trains a network as the CLI does: data, engine, trainer, exported results."""

from __future__ import annotations

from pathlib import Path

from eqprop_analog.config import RunConfig
from eqprop_analog.data import load_dataset
from eqprop_analog.engines import Engine, make_engine
from eqprop_analog.learning.export import export_run
from eqprop_analog.learning.trainer import Trainer


def train(config: RunConfig, run_dir: str | Path, *, resume: bool = False,
          engine: Engine | None = None, progress: bool | None = None, log=print) -> dict:
    """Train on ``config.dataset``; write checkpoint, metrics, trained netlist, weight map, curves
    and summary.json into ``run_dir``; return the summary (accuracies, seconds, run_dir, ...).

    With ``resume`` the run continues from the checkpoint in ``run_dir``. An engine passed in is left
    open; one made here is closed."""
    data = load_dataset(config.dataset, config.seed, config.test_fraction, config.data_dir)
    own_engine = engine is None
    engine = engine or make_engine(config.engine, reltol=config.reltol)
    try:
        trainer = Trainer(config, data, engine, run_dir, progress=progress, log=log)
        log(f"training {'-'.join(map(str, trainer.network.spec.layers))} on {data.name} "
            f"({len(data.x_train)} train, {len(data.x_test)} test samples) with {engine.name}, "
            f"{config.estimator} EP, {config.cost}, beta {config.beta:g}")
        return export_run(trainer, trainer.fit(resume=resume))
    finally:
        if own_engine:
            engine.close()
