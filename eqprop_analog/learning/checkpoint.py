"""Atomic files of a run folder: the checkpoint and the per-epoch metrics."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from eqprop_analog.errors import DataError
from eqprop_analog.files import atomic_write_bytes, atomic_write_text

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.csv"
DEVICE_PREFIX = "device_"


def save_checkpoint(run_dir: Path, epoch: int, conductances: tuple[np.ndarray, ...],
                    history: list[dict], device_state: dict[str, np.ndarray] | None = None) -> None:
    """Write the conductances, the history and the devices' own state (e.g. RProp pulse widths)."""
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {f"g{l}": g for l, g in enumerate(conductances, start=1)}
    arrays.update({DEVICE_PREFIX + k: v for k, v in (device_state or {}).items()})
    np.savez(buffer, epoch=np.int64(epoch), history=np.array(json.dumps(history)), **arrays)
    atomic_write_bytes(run_dir / CHECKPOINT, buffer.getvalue())
    atomic_write_text(run_dir / METRICS, metrics_csv(history))


def load_checkpoint(run_dir: Path) -> tuple[int, tuple[np.ndarray, ...], list[dict]]:
    """(last finished epoch, conductances, history) of a run folder."""
    path = run_dir / CHECKPOINT
    try:
        with np.load(path) as data:
            n = sum(1 for k in data.files if k.startswith("g"))
            conductances = tuple(data[f"g{l}"] for l in range(1, n + 1))
            epoch, history = int(data["epoch"]), json.loads(str(data["history"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        # a damaged file (truncated, overwritten, missing arrays, history that is not JSON)
        raise DataError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc}); "
                        "start the run again in a new folder") from None
    if not n or not isinstance(history, list) or len(history) != epoch:
        raise DataError(f"{path} is not a complete checkpoint (epoch {epoch}, {len(history)} "
                        f"history rows, {n} crossbars); start the run again in a new folder")
    return epoch, conductances, history


def load_device_state(run_dir: Path) -> dict[str, np.ndarray]:
    """The device state saved with the checkpoint (empty for stateless devices)."""
    path = run_dir / CHECKPOINT
    try:
        with np.load(path) as data:
            return {k[len(DEVICE_PREFIX):]: data[k] for k in data.files
                    if k.startswith(DEVICE_PREFIX)}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc})"
                        ) from None


def metrics_csv(history: list[dict]) -> str:
    if not history:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()
