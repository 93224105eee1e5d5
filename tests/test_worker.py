"""The ngspice child process starts isolated: nothing in the working folder or the user's home is
run, neither ngspice's ``.spiceinit`` nor a Python module that shadows the standard library."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
