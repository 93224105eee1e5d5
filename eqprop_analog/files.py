"""Files in and out: text a user hands in read with one clear error for what is not a text file,
and files written so that a reader, or a run killed mid-write, never sees half a file."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

from eqprop_analog.errors import ConfigError, DataError, EqpropError


def read_user_text(path: str | os.PathLike, what: str,
                   error: type[EqpropError] = DataError) -> str:
    r"""The text of a file a user names (``what`` it is, for the message): UTF-8, a leading
    byte-order mark dropped. A pipe is read to its end (``--config <(...)``), one that nothing
    writes to as empty. An empty path, a missing file, a folder, a device (reading it would never
    end), an unreadable file, bytes that are not UTF-8 and NUL bytes (binary data) are one-line
    ``error``\ s."""
    if not os.fspath(path):
        raise error(f"{what}: the path is empty; name the file")
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{what} {path} does not exist") from None
    except OSError as exc:  # no permission, a symlink loop, a path too long, ...
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    except ValueError:  # a NUL in the path
        raise error(f"{what} {str(path)!r}: a path cannot hold a NUL character") from None
    if stat.S_ISDIR(mode):
        raise error(f"{what} {path} is a folder; give the file")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise error(f"{what} {path} is a device or a socket, not a file; give the file")
    try:
        text = _read_pipe(path) if stat.S_ISFIFO(mode) else path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not a text file (not UTF-8)") from None
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    if "\x00" in text:
        raise error(f"{what} {path} is not a text file (it holds NUL bytes)")
    return text


def _read_pipe(path: Path) -> str:
    """A pipe's text to its end. Opened without waiting for a writer, then read waiting for one:
    a pipe that no process has open for writing reads as empty at once."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    with io.TextIOWrapper(os.fdopen(fd, "rb"), encoding="utf-8-sig") as pipe:
        return pipe.read()


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
    twice = next((c for i, c in enumerate(columns) if c and c in columns[:i]), None)
    if twice is not None:  # DictReader would keep the last of them without a word
        raise DataError(f"{what} {path} has the column {twice!r} twice; keep one")
    for number, row in enumerate(rows, start=2):
        # DictReader gathers a long row's extra cells under None and fills a short one with None
        cells = len(columns) + len(row.get(None, [])) - sum(v is None for v in row.values())
        if cells != len(columns):
            raise DataError(f"{what} {path} line {number} has {cells} cells, not the "
                            f"{len(columns)} of its header")
    return columns, rows


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``.
    A path that names no file (empty, a folder) is a one-line ConfigError; a failure to write
    names ``path``, not the temporary file."""
    if not os.fspath(path) or Path(path).is_dir() or not Path(path).name:
        raise ConfigError(f"{os.fspath(path) or 'an empty path'} names no file to write; give "
                          "a file name")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # its folder is missing or a file: there is no temporary to remove
            pass
        if isinstance(exc, OSError) and exc.filename == str(tmp):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode())
