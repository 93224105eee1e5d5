"""Atomic files of a run folder: the checkpoint and the per-epoch metrics."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eqprop_analog.errors import DataError
from eqprop_analog.files import atomic_write_bytes, atomic_write_text

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.csv"
DEVICE_PREFIX = "device_"
RUN_STATE = "run_state"
# what every version's rows hold (later ones add skipped batches, steps, step energies and an
# engine difference)
HISTORY_NUMBERS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds")


@dataclass(frozen=True)
class RunState:
    """What a resumed run needs besides conductances, history and devices: the row of an epoch
    trained but not yet evaluated (the history then ends one epoch earlier, and the epoch is
    kept even if its evaluation fails), and the warnings the run has recorded."""

    unevaluated: dict | None = None
    warnings: tuple[str, ...] = ()


def save_checkpoint(run_dir: Path, epoch: int, conductances: tuple[np.ndarray, ...],
                    history: list[dict], device_state: dict[str, np.ndarray] | None = None,
                    state: RunState = RunState()) -> None:
    """Write the conductances after ``epoch``, the history, the devices' own state (e.g. RProp
    pulse widths) and the run's state."""
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {f"g{l}": g for l, g in enumerate(conductances, start=1)}
    arrays.update({DEVICE_PREFIX + k: v for k, v in (device_state or {}).items()})
    arrays[RUN_STATE] = np.array(json.dumps({"unevaluated": state.unevaluated,
                                             "warnings": list(state.warnings)}))
    np.savez(buffer, epoch=np.int64(epoch), history=np.array(json.dumps(history)), **arrays)
    atomic_write_bytes(run_dir / CHECKPOINT, buffer.getvalue())
    atomic_write_text(run_dir / METRICS, metrics_csv(history))


@dataclass(frozen=True)
class Checkpoint:
    epoch: int
    conductances: tuple[np.ndarray, ...]
    history: list[dict]
    device_state: dict[str, np.ndarray]
    state: RunState


def read_checkpoint(run_dir: Path) -> Checkpoint:
    """Everything a run folder's checkpoint holds, checked: a damaged file (truncated,
    overwritten, missing arrays, history that is not JSON) is one DataError."""
    path = run_dir / CHECKPOINT
    try:
        with np.load(path) as data:
            n = sum(1 for k in data.files if k.startswith("g"))
            conductances = tuple(data[f"g{l}"] for l in range(1, n + 1))
            epoch, history = _epoch(data["epoch"]), json.loads(str(data["history"]))
            devices = {k[len(DEVICE_PREFIX):]: data[k] for k in data.files
                       if k.startswith(DEVICE_PREFIX)}
            state = json.loads(str(data[RUN_STATE])) if RUN_STATE in data.files else {}
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc}); "
                        "start the run again in a new folder") from None
    run_state = _run_state(state, epoch)
    pending = run_state is not None and run_state.unevaluated is not None
    if run_state is None or not n or not isinstance(history, list) or \
            len(history) != epoch - pending:
        raise DataError(f"{path} is not a complete checkpoint (epoch {epoch}, "
                        f"{len(history) if isinstance(history, list) else 'no'} history rows, "
                        f"{n} crossbars); start the run again in a new folder")
    for l, g in enumerate(conductances, start=1):
        if not (g.dtype.kind == "f" and g.ndim == 2 and g.size and g.min() > 0
                and g.max() < np.inf):
            raise DataError(f"{path}: crossbar {l} is not a matrix of finite conductances > 0 S "
                            "(the checkpoint is damaged); start the run again in a new folder")
    bad = next((i for i, row in enumerate(history, start=1) if not _history_row(row, i)), None)
    if bad is not None:
        raise DataError(f"{path}: the history row of epoch {bad} is damaged; start the run "
                        "again in a new folder")
    return Checkpoint(epoch, conductances, history, devices, run_state)


def _epoch(value: np.ndarray) -> int:
    """The saved epoch, one integer >= 0 (a ValueError otherwise)."""
    if value.shape != () or value.dtype.kind not in "iu" or int(value) < 0:
        raise ValueError(f"the epoch is {value!r}, not one count")
    return int(value)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _history_row(row: object, epoch: int) -> bool:
    """Whether ``row`` is the metrics of ``epoch`` as the trainer writes them: its numbers, and
    the later columns numbers or empty (null)."""
    return (isinstance(row, dict) and row.get("epoch") == epoch
            and all(_number(row.get(k)) for k in HISTORY_NUMBERS)
            and all(_number(v) or v is None for v in row.values()))


def _run_state(state, epoch: int) -> RunState | None:
    """The saved run state, or None where it is not one."""
    if not isinstance(state, dict):
        return None
    row, warnings = state.get("unevaluated"), state.get("warnings", [])
    if row is not None and not (isinstance(row, dict) and row.get("epoch") == epoch and all(
            isinstance(row.get(k), (int, float)) for k in ("skipped_batches", "seconds"))):
        return None
    if not (isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)):
        return None
    return RunState(row, tuple(warnings))


def load_checkpoint(run_dir: Path) -> tuple[int, tuple[np.ndarray, ...], list[dict]]:
    """(last trained epoch, conductances, history) of a run folder."""
    checkpoint = read_checkpoint(run_dir)
    return checkpoint.epoch, checkpoint.conductances, checkpoint.history


def load_device_state(run_dir: Path) -> dict[str, np.ndarray]:
    """The device state saved with the checkpoint (empty for stateless devices)."""
    return read_checkpoint(run_dir).device_state


def metrics_csv(history: list[dict]) -> str:
    """One row per epoch; a column that only later rows have (an engine check switched on when
    the run was resumed) is empty in the earlier ones."""
    if not history:
        return ""
    columns = list(dict.fromkeys(key for row in history for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()
