"""Real faults of the ngspice child process, for the tests of what survives them."""

import os
import signal
import threading


def crash_during_next_call(process) -> None:
    """Make ngspice's child process die while it holds the next request: stopped now, so it
    cannot answer first, and killed half a second later, while the parent waits for it. (Killed
    at once, it could be found dead before the request and replaced without a fault.)"""
    pid = process.pid
    os.kill(pid, signal.SIGSTOP)
    threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
