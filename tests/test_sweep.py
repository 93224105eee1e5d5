"""Sweeps on a local Dask cluster: every run recorded once, failures recorded, a killed sweep
resumed without losing or repeating a finished run."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eqprop_analog.errors import ConfigError
from eqprop_analog.sweep.results import ENERGY_METRICS
from eqprop_analog.sweep.spec import load_sweep

CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


def write_sweep(folder: Path, grid: str, fixed: str = "", seeds: str = "[0]") -> Path:
    path = folder / "sweep.toml"
    path.write_text(f'[sweep]\nbase = "{CONFIGS / "iris.toml"}"\nseeds = {seeds}\n'
                    f'[fixed]\nengine = "native"\n{fixed}\n{grid}\n')
    return path


def sweep_cli(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eqprop_analog.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600, **kwargs)


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_sweep_records_each_run_and_each_failure(tmp_path):
    sweep = write_sweep(tmp_path, "[grid]\ng_max = [1e-4, 1e-9]\nlr = [[5e-9], [1e-8]]",
                        "epochs = 2")
    result = sweep_cli("sweep", sweep, "--workers", "2")
    assert result.returncode == 0, result.stderr
    table = rows(tmp_path / "sweep-results" / "results.csv")
    assert len(table) == 4 and len({r["run_id"] for r in table}) == 4
    ok = [r for r in table if r["status"] == "ok"]
    failed = [r for r in table if r["status"] == "failed"]
    assert {r["g_max"] for r in ok} == {"0.0001"} and len(ok) == 2
    assert all(0 <= float(r["test_accuracy"]) <= 1 and r["error"] == "" for r in ok)
    assert all("g_max" in r["error"] for r in failed) and len(failed) == 2
    for row in ok:  # its energy, as its own metrics.csv and summary.json have it
        metrics = rows(tmp_path / "sweep-results" / "runs" / row["run_id"] / "metrics.csv")
        assert float(row["training_energy_j"]) == pytest.approx(sum(
            int(m["steps"]) * (float(m["step_free_phase_j"]) + float(m["step_nudged_phases_j"]))
            for m in metrics), rel=1e-12)
        assert float(row["step_nudged_phases_j"]) == float(metrics[-1]["step_nudged_phases_j"])
        summary = json.loads((tmp_path / "sweep-results" / "runs" / row["run_id"] /
                              "summary.json").read_text())
        assert float(row["static_power_w"]) == summary["inference"]["static_power_w"]["supplied"]
        assert row["step_programming_j"] == ""  # clipped devices take no pulses
    assert all(r["static_power_w"] == "" for r in failed)
    plot = sweep_cli("sweep-plot", tmp_path / "sweep-results" / "results.csv")
    assert plot.returncode == 0 and (tmp_path / "sweep-results" / "sweep.png").stat().st_size > 0


def test_a_sweep_whose_every_run_fails_exits_non_zero(tmp_path):
    sweep = write_sweep(tmp_path, "[grid]\ng_max = [1e-9, 1e-10]")
    result = sweep_cli("sweep", sweep, "--workers", "1")
    assert result.returncode != 0
    assert "every run of the sweep failed" in result.stderr
    assert [r["status"] for r in rows(tmp_path / "sweep-results" / "results.csv")] == ["failed"] * 2


def test_a_killed_sweep_resumes_without_losing_or_repeating_runs(tmp_path):
    sweep = write_sweep(tmp_path, "[grid]\nlr = [[3e-9], [5e-9], [7e-9], [1e-8], [2e-8], [3e-8]]",
                        "epochs = 25")
    results = tmp_path / "sweep-results" / "results.csv"
    process = subprocess.Popen([sys.executable, "-m", "eqprop_analog.cli", "sweep", str(sweep),
                                "--workers", "1"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (results.exists() and len(rows(results)) >= 2):
            assert time.monotonic() < deadline and process.poll() is None, "sweep did not progress"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = rows(results)
    assert 2 <= len(before) < 6
    result = sweep_cli("sweep", sweep, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert f"{len(before)} already in" in result.stdout
    after = rows(results)
    assert len(after) == 6 and len({r["run_id"] for r in after}) == 6
    assert after[:len(before)] == before  # finished runs kept as they were


def test_random_search_draws_within_its_ranges(tmp_path):
    sweep = write_sweep(tmp_path, '[random]\nlr = {log_uniform = [1e-9, 1e-7]}\n'
                        'scheme = {choice = ["cst", "rprop"]}', seeds="[0, 1]")
    text = sweep.read_text().replace("[sweep]\n", "[sweep]\nsamples = 5\n")
    sweep.write_text(text)
    points = load_sweep(sweep).points()
    assert len(points) == 10 and [p.values["seed"] for p in points[:2]] == [0, 1]
    assert all(1e-9 <= p.values["lr"] <= 1e-7 and p.values["scheme"] in ("cst", "rprop")
               for p in points)


@pytest.mark.parametrize("body, words", [
    ("[grid]\nepoch = [1, 2]", "not a run option"),
    ("[grid]\nseed = [1, 2]", "seeds"),
    ("[grid]\nlr = [1e-8]\n[random]\nbeta = {uniform = [1e-7, 1e-6]}", "exactly one"),
    ("[random]\nbeta = {uniform = [1e-6, 1e-7]}", "low < high"),
    ("[grid]\nnonlinearity = [1.0, 1]", "twice"),
    ("[grid]\nhidden = [[8], 8]", "twice"),
    ("[grid]\nnonlinearity = [1979-05-27]", "nonlinearity must be"),
    ("[grid]\nnonlinearity = [-1.0]", "nonlinearity must be"),
    ("[random]\nepochs = {uniform = [1, 5]}", "not a real number option"),
    ("[random]\nbeta = {uniform = [1979-05-27, 1e-6]}", "beta must be"),
    ("[random]\nspice_timeout = {uniform = [\"none\", 5.0]}", "numbers"),
    ("[random]\nscheme = {choice = [\"cst\", \"cst\"]}", "twice"),
    ("[grid]\nepochs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nbatch_size = [" +
     ", ".join(map(str, range(1, 10002))) + "]", "more than 100000"),
])
def test_bad_sweep_files_are_refused(tmp_path, body, words):
    with pytest.raises(ConfigError, match=words):
        load_sweep(write_sweep(tmp_path, body))


def test_a_sweep_runs_on_a_running_scheduler(tmp_path):
    """--scheduler: the runs go to the workers of an existing cluster (here a local one)."""
    import logging

    from dask.distributed import LocalCluster

    sweep = write_sweep(tmp_path, "[grid]\nlr = [[5e-9], [1e-8]]", "epochs = 2")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        result = sweep_cli("sweep", sweep, "--scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stderr
    table = rows(tmp_path / "sweep-results" / "results.csv")
    assert [r["status"] for r in table] == ["ok", "ok"]


@pytest.mark.parametrize("text, words", [
    ("grid = 5\n", "must be a table"),
    ("sweep = 1\n[grid]\nlr = [1e-8]\n", "must be a table"),
    ("[sweep]\nsamples = true\n[random]\nlr = {uniform = [1e-9, 1e-8]}\n", "samples"),
    ("[sweep]\nseed = [1]\n[grid]\nlr = [1e-8]\n", "not a sweep setting"),
    ("[sweep]\nseeds = [0, 0]\n[grid]\nlr = [1e-8]\n", "twice"),
    ("[sweep]\nbase = 5\n[grid]\nlr = [1e-8]\n", "base must be"),
    ("[fixed]\nwhen = 1979-05-27\n[grid]\nlr = [1e-8]\n", "not a run option"),
    ("[fixed]\nepochs = 1979-05-27\n[grid]\nlr = [1e-8]\n", "epochs must be"),
])
def test_sweep_files_in_the_wrong_shape_are_refused(text, words, tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_sweep(path)


def test_failed_runs_run_again_with_retry_failed(tmp_path):
    """A run that failed (its run folder could not be made: a file is in the way) runs again once
    the cause is gone, and only with --retry-failed; the finished run is not run again."""
    from eqprop_analog.sweep.runner import run_id

    sweep = write_sweep(tmp_path, "[grid]\nlr = [[5e-9], [1e-8]]", "epochs = 1")
    spec = load_sweep(sweep)
    rid = next(run_id(spec, p) for p in spec.points() if p.values["lr"] == [1e-8])
    results = tmp_path / "sweep-results" / "results.csv"
    blocker = tmp_path / "sweep-results" / "runs" / rid
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    first = sweep_cli("sweep", sweep, "--workers", "1")
    assert first.returncode == 0, first.stderr
    statuses = {r["run_id"]: r["status"] for r in rows(results)}
    assert statuses[rid] == "failed" and sorted(statuses.values()) == ["failed", "ok"]
    finished = next(r for r in rows(results) if r["status"] == "ok")
    blocker.unlink()
    again = sweep_cli("sweep", sweep, "--workers", "1")  # without the flag: nothing to do
    assert "2 already in" in again.stdout
    assert {r["run_id"]: r["status"] for r in rows(results)} == statuses
    retried = sweep_cli("sweep", sweep, "--workers", "1", "--retry-failed")
    assert retried.returncode == 0, retried.stderr
    assert "1 failed runs to run again" in retried.stdout
    after = rows(results)
    assert len(after) == 2 and all(r["status"] == "ok" for r in after)
    assert after[0] == finished and after[1]["run_id"] == rid


def test_an_option_added_later_at_its_default_leaves_run_ids_as_they_were(tmp_path, monkeypatch):
    """A sweep written by an earlier version (without some option) resumes: its runs keep their
    ids. Setting the option away from its default does change them."""
    from dataclasses import replace

    from eqprop_analog.sweep import runner

    spec = load_sweep(write_sweep(tmp_path, "[grid]\nlr = [[5e-9], [1e-8]]", "epochs = 1"))
    now = [runner.run_id(spec, p) for p in spec.points()]
    older = {k: v for k, v in runner.OPTIONS.items() if k != "node_capacitance"}
    monkeypatch.setattr(runner, "OPTIONS", older)
    assert [runner.run_id(spec, p) for p in spec.points()] == now
    monkeypatch.undo()
    changed = replace(spec, base=replace(spec.base, node_capacitance=2e-12))
    assert not set(runner.run_id(changed, p) for p in spec.points()) & set(now)


def test_a_table_from_before_the_energy_columns_goes_on_in_the_new_layout(tmp_path):
    sweep = write_sweep(tmp_path, "[grid]\nlr = [[5e-9], [1e-8]]", "epochs = 1")
    assert sweep_cli("sweep", sweep, "--workers", "1").returncode == 0
    results = tmp_path / "sweep-results" / "results.csv"
    new = rows(results)
    old_columns = [c for c in new[0] if c not in ENERGY_METRICS]
    with open(results, "w", newline="") as fh:  # as the sweep wrote it before, one run done
        writer = csv.DictWriter(fh, old_columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerow(new[0])
    result = sweep_cli("sweep", sweep, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "1 already in" in result.stdout
    kept, ran = rows(results)
    assert list(kept) == list(new[0])  # the new layout
    assert {k: kept[k] for k in old_columns} == {k: new[0][k] for k in old_columns}
    assert all(kept[k] == "" for k in ENERGY_METRICS) and float(ran["training_energy_j"]) > 0
