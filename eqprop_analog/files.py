"""Files in and out: text a user hands in read with one clear error for what is not a text file,
and files written so that a reader, or a run killed mid-write, never sees half a file."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from eqprop_analog.errors import DataError, EqpropError


def read_user_text(path: str | os.PathLike, what: str,
                   error: type[EqpropError] = DataError) -> str:
    r"""The text of a file a user names (``what`` it is, for the message): UTF-8, a leading
    byte-order mark dropped. A missing file, a folder, bytes that are not UTF-8 and NUL bytes
    (binary data) are one-line ``error``\ s."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder; give the file") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not a text file (not UTF-8)") from None
    if "\x00" in text:
        raise error(f"{what} {path} is not a text file (it holds NUL bytes)")
    return text


def read_user_csv(path: str | os.PathLike, what: str) -> tuple[list[str], list[dict]]:
    """The header and the rows (dicts by column) of a CSV file a user names, every row with as
    many cells as the header; anything else is a one-line DataError."""
    text = read_user_text(path, what)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(f"{what} {path} is not a readable CSV file: {exc}") from None
    for number, row in enumerate(rows, start=2):
        # DictReader gathers a long row's extra cells under None and fills a short one with None
        cells = len(columns) + len(row.get(None, [])) - sum(v is None for v in row.values())
        if cells != len(columns):
            raise DataError(f"{what} {path} line {number} has {cells} cells, not the "
                            f"{len(columns)} of its header")
    return columns, rows


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode())
