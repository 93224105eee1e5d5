"""Locating the ngspice shared library."""

from __future__ import annotations

import ctypes.util
import glob
import os
from pathlib import Path

from eqprop_analog.errors import LibraryNotFoundError

LIBRARY_ENV = "EQPROP_NGSPICE_LIBRARY"
_SEARCH_GLOBS = ("/usr/lib/*/libngspice.so*", "/usr/lib/libngspice.so*", "/usr/local/lib/libngspice.so*",
                 "/usr/lib64/libngspice.so*", "/opt/homebrew/lib/libngspice*.dylib",
                 "/usr/local/lib/libngspice*.dylib")


def find_library() -> str:
    """Path of libngspice: ``$EQPROP_NGSPICE_LIBRARY`` if set, else the system's copy.

    Debian ships only ``libngspice.so.0`` (no unversioned link without the -dev package), which
    ``ctypes.util.find_library`` may not report, so the usual folders are searched as well."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        if not Path(override).is_file():
            raise LibraryNotFoundError(f"{LIBRARY_ENV}={override} is not a file; point it at "
                                       "libngspice.so.0 or unset it")
        return override
    found = ctypes.util.find_library("ngspice")
    if found and Path(found).is_absolute():
        return found
    candidates = sorted(p for pattern in _SEARCH_GLOBS for p in glob.glob(pattern))
    if candidates:
        return candidates[0]
    if found:
        return found
    raise LibraryNotFoundError("libngspice not found: install it (apt-get install libngspice0) or "
                               f"set {LIBRARY_ENV} to the path of libngspice.so.0")
