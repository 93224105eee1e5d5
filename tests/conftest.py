import numpy as np
import pytest

from eqprop_analog.engines.ngspice import NgspiceEngine, SpiceOptions


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


NGSPICE_FIXTURES = {"engine", "precise_engine"}


def pytest_collection_modifyitems(config, items):
    for item in items:  # a test on an ngspice fixture needs libngspice, marked or not
        if NGSPICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.ngspice)
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: opt in with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def engine():
    """ngspice at the engine's default tolerances."""
    eng = NgspiceEngine()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def precise_engine():
    """ngspice at tight tolerances, for comparisons with finite differences."""
    eng = NgspiceEngine(SpiceOptions(reltol=1e-9, vntol=1e-12, abstol=1e-18))
    yield eng
    eng.close()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
