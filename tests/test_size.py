"""A network too large for the memory is refused before anything is allocated, with the estimate
and what would fit."""

import subprocess
import sys

import pytest

from eqprop_analog import CircuitSpec
from eqprop_analog.circuit.size import BASE_BYTES, BYTES_PER_CONDUCTANCE, available_memory, check_fits
from eqprop_analog.errors import ConfigError

GB = 2**30


def test_the_estimate_is_the_conductances_times_their_measured_cost():
    spec = CircuitSpec(layers=(784, 100, 10))  # 1570 x 100 + 102 x 10 conductances
    need = BASE_BYTES + spec.n_conductances * BYTES_PER_CONDUCTANCE["ngspice"]
    check_fits(spec, "ngspice", available=need)
    # (0.5 GB - 300 MB) / 2000 bytes = 111,149 conductances
    with pytest.raises(ConfigError, match=r"needs about 0\.587 GB .* 0\.5 GB are available: "
                                          r"about 111,149 conductances fit"):
        check_fits(spec, "ngspice", available=GB // 2)


def test_this_machine_reports_its_memory():
    assert available_memory() > 100 * 2**20


@pytest.mark.parametrize("args", [
    ["compile", "--layers", "100000,100000,10", "-o", "n.cir"],
    ["train", "--dataset", "xor", "--hidden", "1000000000", "--engine", "native"],
    ["gradcheck", "--layers", "4,100000000,3"],
])
def test_commands_refuse_networks_that_cannot_fit(args, tmp_path):
    result = subprocess.run([sys.executable, "-m", "eqprop_analog.cli", *args],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line, = result.stderr.strip().splitlines()
    assert "GB of memory" in line and "conductances fit" in line
    assert not list(tmp_path.iterdir())
