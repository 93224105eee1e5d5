"""Nothing a user's folder or files hold is run: the ngspice child process starts isolated (neither
ngspice's ``.spiceinit`` nor a Python module that shadows the standard library is read), and a
dataset's name cannot put commands into an exported netlist. A hung child is killed and
replaced."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines.ngspice import NgspiceEngine, SpiceOptions
from eqprop_analog.errors import SpiceError

pytestmark = pytest.mark.ngspice

SCRIPT = Path(sys.executable).with_name("eqprop-analog")  # the installed command, as a user runs it


def train_xor(cwd: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), "train", "--dataset", "xor", "--engine", "ngspice", "--hidden", "4",
         "--epochs", "1", "--out", str(cwd / "run"), "--json", "--no-progress"],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, "HOME": str(home)},
        timeout=600)


def test_spiceinit_in_the_working_folder_or_home_is_not_read(tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    for folder in (work, home):
        (folder / ".spiceinit").write_text(f"shell touch {tmp_path}/PWNED-{folder.name}\n")
    result = train_xor(work, home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["epochs"] == 1
    assert not list(tmp_path.rglob("PWNED*"))


def test_a_module_in_the_working_folder_is_not_imported(tmp_path):
    marker = tmp_path / "IMPORTED"
    (tmp_path / "tempfile.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                          "raise SystemExit('shadowing module imported')\n")
    result = train_xor(tmp_path, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


def test_a_dataset_name_cannot_put_commands_into_the_netlist(tmp_path):
    marker = tmp_path / "PWNED"  # what "shell touch PWNED" would make, run in tmp_path
    name = "data\n.control\nshell touch PWNED\n.endc\n*"
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [f"{a},{b},{int(a != b)}" for a in (0, 1) for b in (0, 1)] * 5
    (folder / f"{name}.csv").write_text("\n".join(rows) + "\n")
    result = subprocess.run(
        [str(SCRIPT), "train", "--dataset", str(folder / f"{name}.csv"), "--engine", "ngspice",
         "--hidden", "4", "--epochs", "1", "--out", str(tmp_path / "run"), "--json",
         "--no-progress"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    netlist = tmp_path / "run" / "network.cir"
    lines = netlist.read_text().splitlines()
    assert lines[0].startswith("eqprop-analog") and "shell" in lines[0]  # all on the title line
    assert not any(line.lstrip().lower().startswith((".control", "shell", ".endc"))
                   for line in lines)
    # the engineer who receives it runs it in ngspice: nothing runs but the circuit
    batch = subprocess.run([shutil.which("ngspice") or "ngspice", "-b", str(netlist)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120,
                           env={**os.environ, "HOME": str(tmp_path)})
    assert "Circuit: eqprop-analog" in batch.stdout, batch.stdout + batch.stderr  # it was read
    assert not marker.exists()
    config = (tmp_path / "run" / "config.toml").read_text()
    assert "\\n.control" in config  # escaped in the run's own config, which resumes
    resumed = subprocess.run([str(SCRIPT), "train", "--resume", str(tmp_path / "run"),
                              "--epochs", "2", "--no-progress"], capture_output=True, text=True,
                             cwd=tmp_path, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert not marker.exists()


def test_a_stopped_ngspice_process_is_killed_and_replaced():
    network = LayeredNetwork(CircuitSpec(layers=(3, 4, 2)))
    g = network.initial_conductances(np.random.default_rng(0))
    x = np.random.default_rng(1).uniform(0, 1, (4, 3))
    engine = NgspiceEngine(SpiceOptions(timeout=3.0))
    try:
        first = engine.solve(network, g, x).voltages
        stopped = engine.process.pid
        os.kill(stopped, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(SpiceError, match="no answer within 3 s.*killed"):
            engine.solve(network, g, x)
        assert time.monotonic() - started < 30
        with pytest.raises(ProcessLookupError):  # gone, not left stopped
            os.kill(stopped, 0)
        again = engine.solve(network, g, x).voltages  # a new process answers
        assert engine.process.pid != stopped
        np.testing.assert_array_equal(first, again)
    finally:
        engine.close()


def test_the_default_timeout_grows_with_the_sweep():
    small = LayeredNetwork(CircuitSpec(layers=(4, 8, 2)))
    large = LayeredNetwork(CircuitSpec(layers=(784, 100, 10)))
    options = SpiceOptions()
    assert 60 <= options.sweep_timeout(small, 48) < 61
    assert options.sweep_timeout(large, 48) > 5 * options.sweep_timeout(large, 3) / 2
    assert SpiceOptions(timeout=5.0).sweep_timeout(large, 48) == 5.0
