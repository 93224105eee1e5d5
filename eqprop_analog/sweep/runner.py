"""Running a sweep on Dask: one task per run, a local cluster of worker processes by default or a
running scheduler, each worker keeping one engine (one ngspice) for all its runs."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from eqprop_analog.analysis.step_energy import STEP_KEYS
from eqprop_analog.config import OPTIONS, RunConfig
from eqprop_analog.errors import ConfigError, EqpropError
from eqprop_analog.options import toml_value
from eqprop_analog.sweep.results import METRICS, ResultsTable
from eqprop_analog.sweep.spec import RunPoint, SweepSpec

RESULTS = "results.csv"
_WORKER_ENGINES: dict = {}  # per worker process: (engine, reltol, timeout, workers) -> engine


def run_id(spec: SweepSpec, point: RunPoint) -> str:
    """Stable id of a run: the base config's options that differ from their defaults, the fixed
    options and the point's values. An option added to the tool later, at its default, leaves
    every id as it was, so a sweep from an earlier version resumes."""
    default = RunConfig()
    base = {name: toml_value(getattr(spec.base, name)) for name in OPTIONS
            if getattr(spec.base, name) != getattr(default, name)}
    text = json.dumps([base, spec.fixed, point.values], sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def run_point(config: RunConfig, run_dir: str) -> dict:
    """Train one run (resuming its own checkpoint if an earlier sweep was killed during it) and
    return its metrics; an error becomes a failed row instead of an exception."""
    from eqprop_analog.learning.checkpoint import CHECKPOINT
    from eqprop_analog.run import train

    try:
        # the sweep's runs already fill the cores: one ngspice per run unless the sweep says
        config = replace(config, spice_workers=config.spice_workers or 1)  # a check's too
        key = (config.engine, config.reltol, config.spice_timeout, config.spice_workers,
               config.matrix_solver, config.input_crossbar)
        if key not in _WORKER_ENGINES:
            _WORKER_ENGINES[key] = config.engine_for()
        resume = (Path(run_dir) / CHECKPOINT).exists()
        summary = train(config, run_dir, resume=resume, engine=_WORKER_ENGINES[key],
                        progress=False, log=lambda *args: None)
    except (EqpropError, OSError, ValueError, ArithmeticError) as exc:
        return {"status": "failed", "error": " ".join(str(exc).split())}
    return {"status": "ok", **{k: summary[k] for k in METRICS}, **energy_metrics(summary)}


def energy_metrics(summary: dict) -> dict[str, float]:
    """A run's :data:`~.results.ENERGY_METRICS` from its summary, those it recorded."""
    energy = summary.get("training_energy", {})
    per_step, totals = energy.get("per_step_j", {}), energy.get("total_j", {})
    row = {key: per_step[name] for name, key in STEP_KEYS.items() if name in per_step}
    if totals:
        row["training_energy_j"] = float(sum(totals.values()))
    supplied = summary.get("inference", {}).get("static_power_w", {}).get("supplied")
    if supplied is not None:
        row["static_power_w"] = supplied
    return row


def run_sweep(spec: SweepSpec, out_dir: str | Path, *, workers: int = 2,
              scheduler: str | None = None, retry_failed: bool = False,
              log: Callable[[str], None] = print) -> ResultsTable:
    """Run every point of ``spec`` not yet in ``out_dir``'s results table, appending each row as
    soon as its run ends; with ``retry_failed`` the runs recorded as failed run again (a run
    resumes from its own checkpoint if it has one). Runs write their folders under
    ``out_dir/runs`` (on a real cluster that folder must be shared with the workers)."""
    from dask.distributed import Client, LocalCluster, as_completed

    out_dir = Path(out_dir)
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)
    table = ResultsTable(out_dir / RESULTS, spec.swept)
    if retry_failed:
        log(f"sweep: {table.drop_failed()} failed runs to run again")
    points = spec.points()
    todo = [(run_id(spec, p), p) for p in points]
    todo = [(rid, p) for rid, p in todo if rid not in table.done()]
    log(f"sweep: {len(points)} runs, {len(points) - len(todo)} already in {table.path}")
    pending = {}
    for rid, point in todo:
        try:  # options that cannot make a config fail here, without a worker
            pending[rid] = (point, spec.config(point))
        except EqpropError as exc:
            _record(table, rid, point, {"status": "failed", "error": " ".join(str(exc).split())},
                    log, len(points))
    if not pending:
        return table
    if scheduler:
        try:
            client = Client(scheduler)
        except ValueError as exc:  # an address without a port, ...
            raise ConfigError(f"{scheduler!r} is no Dask scheduler's address ({exc}); give it "
                              "as tcp://HOST:PORT") from None
        except OSError as exc:  # no answer
            raise ConfigError(f"no Dask scheduler answered at {scheduler!r} ({exc}); is it "
                              "running?") from None
    else:
        client = Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                     dashboard_address=None, silence_logs=logging.ERROR))
    try:
        futures = {client.submit(run_point, config, str(out_dir / "runs" / rid), key=f"run-{rid}",
                                 pure=False): rid for rid, (point, config) in pending.items()}
        for future in as_completed(futures):
            rid = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # the worker died (e.g. killed) while running it
                row = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            _record(table, rid, pending[rid][0], row, log, len(points))
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()
    return table


def _record(table: ResultsTable, rid: str, point: RunPoint, row: dict, log, total: int) -> None:
    table.append({"run_id": rid, **point.values, **row})
    values = " ".join(f"{k}={v}" for k, v in point.values.items())
    outcome = (f"test {100 * row['test_accuracy']:.2f} % ({row.get('seconds', 0):.0f} s)"
               if row["status"] == "ok" else f"FAILED: {row['error']}")
    log(f"[{len(table.rows)}/{total}] {values}: {outcome}")
