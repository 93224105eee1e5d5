"""Reader of the IDX format of the MNIST files (optionally gzip-compressed).

An IDX file starts with two zero bytes, a type byte (0x08: unsigned bytes) and the number of
dimensions, then one big-endian 32-bit size per dimension, then the data in C order.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from eqprop_analog.errors import DataError

_TYPES: dict[int, type | str] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4",
                                 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` files are decompressed)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"IDX file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    n_dims = data[3]
    header = 4 + 4 * n_dims
    shape = struct.unpack(f">{n_dims}I", data[4:header])
    dtype = np.dtype(_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(f"{path} holds {len(data) - header} bytes of data, its header announces "
                        f"{expected}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def find_idx(folder: Path, stem: str) -> Path:
    """``stem`` or ``stem.gz`` in ``folder`` (MNIST's names use '-' or '.' before idx)."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise DataError(f"{folder} has no {stem} (or {stem}.gz); point --data-dir at the folder with the "
                    "four MNIST IDX files")


def load_idx_split(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) from the four standard MNIST-format files, images
    flattened to rows."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist")
    arrays = [read_idx(find_idx(folder, stem)) for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    x_train, y_train, x_test, y_test = arrays
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise DataError(f"{folder}: image and label files hold different numbers of samples")
    return (x_train.reshape(len(x_train), -1), y_train.astype(np.int64),
            x_test.reshape(len(x_test), -1), y_test.astype(np.int64))
