"""``eqprop-analog report``: the run's HTML report, opened in headless Chromium (every figure
drawn, no console error, nothing fetched; a screenshot is kept in test-artifacts/), its numbers
the run's own, and written at the end of every training run."""

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from chromium import Page, chromium_program

from eqprop_analog.cli import main
from eqprop_analog.config_files import load_config
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.learning.checkpoint import read_checkpoint
from eqprop_analog.run import train
from eqprop_analog.run_report import REPORT, report_html

pytestmark = pytest.mark.ngspice
CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"
ARTIFACTS = Path(os.environ.get("EQPROP_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[1] / "test-artifacts"))
FIGURES = ("cost per epoch", "accuracy per epoch", "energy per training step",
           "conductances of crossbar 1",
           "conductances of crossbar 2", "voltage ranges", "static power per group",
           "confusion matrix")


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    """Iris trained for three epochs on ngspice, one test sample's inference simulated in time:
    the run writes its own report."""
    run = tmp_path_factory.mktemp("iris-run")
    config = replace(load_config(CONFIGS / "iris.toml"), epochs=3, settling_samples=1)
    summary = train(config, run, log=lambda *_: None)
    return run, summary


@pytest.mark.skipif(chromium_program() is None, reason="no chromium program")
def test_the_report_renders_in_headless_chromium_with_every_figure_and_no_error(iris_run,
                                                                               tmp_path):
    run, _ = iris_run
    page = Page(chromium_program(), tmp_path / "profile")
    try:
        page.open((run / REPORT).absolute().as_uri())
        figures = page.evaluate(
            "[...document.querySelectorAll('svg.figure')].map(s => [s.getAttribute('aria-label'),"
            " s.getBoundingClientRect().width, s.getBoundingClientRect().height,"
            " [...s.querySelectorAll('rect, polyline, circle')].filter(e => {"
            " const b = e.getBBox(); return b.width > 0 && b.height > 0; }).length])")
        fetched = page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = page.screenshot(ARTIFACTS / "report.png")
        problems = page.problems
    finally:
        page.close()
    assert [name for name, *_ in figures] == list(FIGURES)
    # each laid out at its size, with more drawn in it than its frame
    assert all(width > 150 and height > 100 and shapes > 3
               for _, width, height, shapes in figures), figures
    assert fetched == []  # self-contained: nothing loaded beside the file, nothing named
    text = (run / REPORT).read_text()
    assert not re.search(r"\b(src|href)=|url\(|@import", text)
    assert problems == []
    assert shot.stat().st_size > 10_000


def numbers_after(text: str, label: str) -> float:
    match = re.search(rf"<td>{re.escape(label)}</td><td class=\"n\">([^<]+)</td>", text)
    assert match, label
    return float(match[1])


def test_the_reports_numbers_are_the_runs(iris_run):
    run, summary = iris_run
    text = (run / REPORT).read_text()
    inference = summary["inference"]
    assert inference["samples"] == 30 and sum(map(sum, inference["confusion"])) == 30
    assert inference["accuracy"] == pytest.approx(
        np.trace(inference["confusion"]) / 30)
    power = inference["static_power_w"]
    assert numbers_after(text, "supplied") == pytest.approx(1e3 * power["supplied"], rel=1e-5)
    assert inference["largest_imbalance_w"] <= 1e-6 * power["supplied"]  # ngspice's tolerances
    assert numbers_after(text, "test accuracy") == pytest.approx(summary["test_accuracy"],
                                                                 rel=1e-5)
    g = read_checkpoint(run).conductances
    row = re.search(r"<td>crossbar 1</td><td>10 x 16</td>((?:<td[^>]*>[^<]*</td>){3})", text)
    assert row, "the first crossbar's conductance row"
    low, median, high = (float(v) for v in re.findall(r">([^<]+)<", row[1]))
    assert (low, median, high) == pytest.approx((g[0].min(), np.median(g[0]), g[0].max()),
                                                rel=1e-5)
    assert f"<td>{summary['ngspice_version']}</td>" in text.replace('<td class="n">', "<td>")
    for name in ("hidden 1 nodes", "output nodes", "crossbar 1 device drops"):
        low, high = inference["voltage_ranges"][name]
        assert low <= high, name
    assert "[circuit]" in text and "[device]" in text
    energy = summary["training_energy"]
    for name, label in (("free_phase", "free phase"), ("nudged_phases", "nudged phases")):
        row = re.search(rf"<td>{label}</td><td class=\"n\">([^<]+)</td><td class=\"n\">([^<]+)<",
                        text)
        assert row, label
        assert (float(row[1]), float(row[2])) == pytest.approx(
            (energy["per_step_j"][name], energy["total_j"][name]), rel=1e-5)
    settled = summary["settling"]
    assert settled["samples"] == 1
    assert numbers_after(text, "settling time, mean (us)") == pytest.approx(
        1e6 * settled["settling_time_s"]["mean"], rel=1e-5)
    assert numbers_after(text, "energy, mean (nJ)") == pytest.approx(
        1e9 * settled["energy_j"]["mean"], rel=1e-5)


def test_a_run_without_a_profile_of_its_last_epoch_is_evaluated_for_its_report(iris_run,
                                                                              tmp_path):
    """A run from before summaries held the inference profile, one stopped before its summary,
    or one resumed since (its summary an earlier epoch's): the command solves its test set; the
    library asks for the profile."""
    run, summary = iris_run
    old = tmp_path / "old-run"
    old.mkdir()
    for name in ("checkpoint.npz", "config.toml"):
        (old / name).write_bytes((run / name).read_bytes())
    without = {k: v for k, v in summary.items() if k != "inference"}
    (old / "summary.json").write_text(json.dumps(without))
    with pytest.raises(ConfigError, match="holds no inference profile"):
        report_html(old)
    assert main(["report", str(old)]) == 0
    supplied = 1e3 * summary["inference"]["static_power_w"]["supplied"]
    assert numbers_after((old / REPORT).read_text(), "supplied") == pytest.approx(supplied,
                                                                                 rel=1e-4)
    (old / "summary.json").write_text(json.dumps({**summary, "epochs": summary["epochs"] - 1}))
    with pytest.raises(ConfigError, match="holds no inference profile of the run's last"):
        report_html(old)
    (old / "summary.json").unlink()
    assert main(["report", str(old), "-o", str(tmp_path / "r.html")]) == 0
    assert "Confusion matrix" in (tmp_path / "r.html").read_text()


def test_cli_report_writes_where_asked_and_refuses_a_damaged_run_in_one_line(iris_run, tmp_path,
                                                                           capsys):
    run, _ = iris_run
    out = tmp_path / "elsewhere.html"
    assert main(["report", str(run), "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("checkpoint.npz", "config.toml"):
        (broken / name).write_bytes((run / name).read_bytes())
    (broken / "summary.json").write_bytes(b"\x00\x01garbage")
    assert main(["report", str(broken)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "summary" in err
    with pytest.raises(DataError, match="not valid JSON"):
        (broken / "summary.json").write_text("{")
        report_html(broken)
    _, summary = iris_run
    profile = summary["inference"]
    for damaged in ({}, {**profile, "confusion": [[1, 2], [3]]}, {**profile, "accuracy": "x"},
                    {**profile, "voltage_ranges": {"output nodes": [1.0, 2.0, 3.0]}},
                    {**profile, "static_power_w": None},
                    {**profile, "static_power_w": {"supplied": float("nan")}}):
        (broken / "summary.json").write_text(json.dumps({**summary, "inference": damaged}))
        assert main(["report", str(broken)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "the inference profile's" in err[0], err
    settled = summary["settling"]
    for damaged in ([], {**settled, "samples": "one"}, {**settled, "energy_j": {"mean": 1.0}},
                    {**settled, "settling_time_s": {"mean": float("inf"), "max": 1.0}}):
        (broken / "summary.json").write_text(json.dumps({**summary, "settling": damaged}))
        assert main(["report", str(broken)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "settling entry is damaged" in err[0], err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_a_report_that_cannot_be_written_leaves_the_finished_run_standing(tmp_path, monkeypatch):
    import eqprop_analog.run as run_module

    def fails(run_dir, *_):
        raise DataError("a damaged verify.json")

    monkeypatch.setattr(run_module, "write_report", fails)
    said = []
    config = replace(load_config(CONFIGS / "iris.toml"), epochs=1, engine="native")
    summary = train(config, tmp_path / "run", log=said.append)
    assert summary["epochs"] == 1 and (tmp_path / "run" / "summary.json").exists()
    assert "the report could not be written (a damaged verify.json)" in said[-1]
