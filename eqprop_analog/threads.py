"""How many threads BLAS and torch may use.

On small machines multi-threaded BLAS and torch make the small matrix products of these circuits
slower (10-20x with 2 threads against 1 on a 2-core machine), so the CLI and the engines run on
one thread unless ``EQPROP_THREADS`` says otherwise. Importing the package changes nothing: a
program that embeds it keeps its own settings until it builds an engine.
"""

from __future__ import annotations

import os
import sys

from eqprop_analog.errors import ConfigError

THREADS_ENV = "EQPROP_THREADS"
_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def configured_threads() -> int:
    """``$EQPROP_THREADS``, or 1 when it is not set."""
    text = os.environ.get(THREADS_ENV, "1")
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ConfigError(f"{THREADS_ENV} must be a positive integer, got {text!r}")
    return threads


def available_cores() -> int:
    """The cores this process may run on (its affinity, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


def limit_threads(threads: int | None = None) -> int:
    """Limit BLAS and torch in this process, and in the processes it starts, to ``threads``
    (default :func:`configured_threads`); return the limit."""
    threads = threads or configured_threads()
    for variable in _POOL_VARIABLES:  # read by child processes when their BLAS starts
        os.environ.setdefault(variable, str(threads))
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)  # BLAS already loaded in this process
    torch = sys.modules.get("torch")  # not imported here: commands that need no torch skip its start
    if torch is not None:
        torch.set_num_threads(threads)
    return threads
