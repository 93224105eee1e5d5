"""The package as a user outside this repository gets it: a wheel installed into a fresh virtual
environment, its commands and the README's Python example run from a folder outside the source
tree, with no PYTHONPATH."""

import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what a clean clone holds besides the sources: left out of the copy the wheel is built from
UNTRACKED = (".git", ".venv", "build", "runs", "*.egg-info", "__pycache__", ".pytest_cache",
             "*-results")

pytestmark = pytest.mark.ngspice


def run(*args, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, eqprop-analog script, work folder) of a fresh environment holding the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*UNTRACKED))
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "--disable-pip-version-check", "-q", "-w", tmp / "dist", source, cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("eqprop_analog-*.whl")
    env = tmp / "env"
    made = run(sys.executable, "-m", "venv", "--without-pip", env, cwd=tmp)
    assert made.returncode == 0, made.stderr
    python = env / "bin" / "python"
    # the dependencies (torch, PySpice, ...) come from the test's environment, which holds no copy
    # of eqprop_analog itself (an editable install is a finder that this .pth does not run)
    env_site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                        cwd=tmp).stdout.strip())
    (env_site / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    done = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
               "--no-index", "--disable-pip-version-check", "-q", wheel, cwd=tmp)
    assert done.returncode == 0, done.stderr
    work = tmp / "work"
    work.mkdir()
    return python, env / "bin" / "eqprop-analog", work, wheel


def test_wheel_ships_the_spice_library(installed):
    *_, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    for library in ("neuron_diode.lib", "bidirectional_amplifier.lib",
                    "differential_amplifier.lib"):
        assert f"eqprop_analog/circuits/{library}" in names


def test_wheel_ships_every_package_of_the_source_tree(installed):
    *_, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for init in (ROOT / "eqprop_analog").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in names, init


def test_package_is_imported_from_the_environment(installed):
    python, _, work, _ = installed
    where = run(python, "-c", "import eqprop_analog; print(eqprop_analog.__file__)", cwd=work)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(python.parents[1])


def test_compile_train_and_gradcheck_from_the_wheel(installed):
    python, script, work, _ = installed
    compiled = run(script, "compile", "--layers", "4,6,3", "-o", "n.cir", cwd=work)
    assert compiled.returncode == 0, compiled.stderr
    netlist = (work / "n.cir").read_text()
    assert ".model DNEURON D(" in netlist and ".subckt BIDIR_AMP" in netlist

    trained = run(script, "train", "--dataset", "xor", "--engine", "ngspice", "--hidden", "4",
                  "--epochs", "1", "--out", "run", "--json", "--no-progress", cwd=work)
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout.strip().splitlines()[-1])
    assert summary["engine"] == "ngspice" and summary["epochs"] == 1
    assert (work / "run" / "network.cir").is_file()

    checked = run(script, "gradcheck", "--layers", "3,4,2", "--json", cwd=work)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["cosine"] > 0.999

    exported = run(script, "export", "run", "--out", "handoff", "--samples", "4", cwd=work)
    assert exported.returncode == 0, exported.stderr
    assert (work / "handoff" / "bench.cir").is_file()


def test_readme_python_examples_run_outside_the_source_tree(installed):
    python, _, work, _ = installed
    readme = (ROOT / "README.md").read_text()
    first, parts = re.findall(r"```python\n(.*?)```", readme, re.S)
    (work / "example.py").write_text(first)
    result = run(python, "example.py", cwd=work)
    assert result.returncode == 0, result.stderr
    accuracy, run_dir = result.stdout.strip().splitlines()[-1].split()
    assert 0.0 <= float(accuracy) <= 1.0 and (work / run_dir / "summary.json").is_file()
    (work / "parts.py").write_text(parts)
    result = run(python, "parts.py", cwd=work)
    assert result.returncode == 0, result.stderr
    assert 0.0 <= float(result.stdout.strip().splitlines()[-1]) <= 1.0
