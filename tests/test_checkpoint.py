"""Checkpoints: a round trip keeps conductances, history and device state bit for bit; a damaged
file is refused with one clear error, never a traceback."""

import io
import json

import numpy as np
import pytest

from eqprop_analog.errors import DataError
from eqprop_analog.learning.checkpoint import (
    CHECKPOINT,
    METRICS,
    load_checkpoint,
    load_device_state,
    save_checkpoint,
)

HISTORY = [{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.75, "test_loss": 0.625,
            "test_accuracy": 0.75, "skipped_batches": 0, "seconds": 1.5, "engine_difference": None},
           {"epoch": 2, "train_loss": 0.25, "train_accuracy": 0.875, "test_loss": 0.5,
            "test_accuracy": 0.875, "skipped_batches": 1, "seconds": 1.25,
            "engine_difference": 2e-9}]


def saved(tmp_path):
    rng = np.random.default_rng(0)
    conductances = (rng.uniform(1e-7, 1e-4, (6, 4)), rng.uniform(1e-7, 1e-4, (6, 2)))
    state = {"pulse_1": rng.uniform(0, 1, (6, 4)), "sign_1": np.sign(rng.normal(size=(6, 4)))}
    save_checkpoint(tmp_path, 2, conductances, HISTORY, state)
    return conductances, state


def test_round_trip_is_exact(tmp_path):
    conductances, state = saved(tmp_path)
    epoch, back, history = load_checkpoint(tmp_path)
    assert epoch == 2 and history == HISTORY
    for a, b in zip(conductances, back, strict=True):
        np.testing.assert_array_equal(a, b)
    back_state = load_device_state(tmp_path)
    assert set(back_state) == set(state)
    for key in state:
        np.testing.assert_array_equal(back_state[key], state[key])
    assert (tmp_path / METRICS).read_text().splitlines() == [
        "epoch,train_loss,train_accuracy,test_loss,test_accuracy,skipped_batches,seconds,"
        "engine_difference", "1,0.5,0.75,0.625,0.75,0,1.5,", "2,0.25,0.875,0.5,0.875,1,1.25,2e-09"]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, no leftovers


def _arrays_without(path, key):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != key}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["empty", "truncated", "random bytes", "no epoch",
                                    "history not JSON", "history of another length"])
def test_a_damaged_checkpoint_is_one_clear_error(tmp_path, damage):
    conductances, _ = saved(tmp_path)
    path = tmp_path / CHECKPOINT
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "random bytes":
        path.write_bytes(np.random.default_rng(1).bytes(len(data)))
    elif damage == "no epoch":
        path.write_bytes(_arrays_without(path, "epoch"))
    elif damage == "history not JSON":
        np.savez(path, epoch=np.int64(2), history=np.array("{not json"), g1=conductances[0])
    else:
        np.savez(path, epoch=np.int64(3), history=np.array(json.dumps(HISTORY)),
                 g1=conductances[0])
    with pytest.raises(DataError, match="checkpoint") as error:
        load_checkpoint(tmp_path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def _resaved(path, **changes):
    """The checkpoint at ``path`` saved again with ``changes`` to its arrays (its format kept:
    a damage that np.load reads without complaint)."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez(path, **{**arrays, **changes})


def _rows(**change):
    return np.array(json.dumps([HISTORY[0], {**HISTORY[1], **change}]))


@pytest.mark.parametrize("damage, changes", [
    ("two epochs", lambda g: {"epoch": np.array([1, 2])}),
    ("a fractional epoch", lambda g: {"epoch": np.array(2.0)}),
    ("text conductances", lambda g: {"g1": g.astype(str)}),
    ("complex conductances", lambda g: {"g1": g.astype(complex)}),
    ("a NaN conductance", lambda g: {"g1": np.where(g == g.max(), np.nan, g)}),
    ("a negative conductance", lambda g: {"g1": -g}),
    ("a vector of conductances", lambda g: {"g1": g.ravel()}),
    ("rows that are no tables", lambda g: {"history": np.array("[1, 2]")}),
    ("rows without metrics", lambda g: {"history": np.array("[{}, {}]")}),
    ("a metric as text", lambda g: {"history": _rows(test_loss="0.1")}),
    ("a metric empty", lambda g: {"history": _rows(test_accuracy=None)}),
    ("a metric missing", lambda g: {"history": np.array(json.dumps(
        [HISTORY[0], {k: v for k, v in HISTORY[1].items() if k != "test_loss"}]))}),
    ("epochs out of order", lambda g: {"history": _rows(epoch=1)}),
])
def test_a_checkpoint_that_loads_but_holds_damaged_values_is_refused(tmp_path, damage, changes):
    conductances, _ = saved(tmp_path)
    _resaved(tmp_path / CHECKPOINT, **changes(conductances[0]))
    with pytest.raises(DataError, match="checkpoint") as error:
        load_checkpoint(tmp_path)
    assert "\n" not in str(error.value)


def test_a_checkpoint_of_an_early_version_reads(tmp_path):
    """Rows with only the epoch, the losses, the accuracies and the seconds, and no run state:
    what the first versions wrote."""
    conductances, _ = saved(tmp_path)
    early = [{k: row[k] for k in ("epoch", "train_loss", "train_accuracy", "test_loss",
                                  "test_accuracy", "seconds")} for row in HISTORY]
    np.savez(tmp_path / CHECKPOINT, epoch=np.int64(2), history=np.array(json.dumps(early)),
             g1=conductances[0], g2=conductances[1])
    epoch, back, history = load_checkpoint(tmp_path)
    assert epoch == 2 and history == early and len(back) == 2
