"""Ctrl-C that ends a command promptly, even while the solver runs.

Python runs a signal handler only between bytecodes of the main thread, so a SIGINT
that arrives during one long Z3 call would wait for the call to return. While
:func:`solver_interrupts` is active, the signal also writes a byte to a pipe (the
interpreter's wakeup file descriptor, written from the C-level handler); a watcher
thread reads it and interrupts Z3, whose call then returns at once and lets the usual
``KeyboardInterrupt`` be raised.

Z3 catches SIGINT itself during a check unless told not to (``ctrl_c``): it cancels
that one query and the program runs on. While active, that handler is switched off.

Two things can still lose that ``KeyboardInterrupt``: Z3 answers an interrupted call
that is not a solver check with an exception of its own ("canceled"), and an
interrupt raised inside a destructor (Z3 objects free themselves in ``__del__``) is
printed and dropped by Python. So the watcher records that the user asked to stop
(:attr:`InterruptWatch.received`) and raises the interrupt again every half second
until the command has ended.
"""
from __future__ import annotations

import _thread
import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

_STOP = b"\0"  # no signal has number 0: the byte that tells the watcher to end
_REPEAT_SECONDS = 0.5


def _loaded_z3():
    """The z3 module if it has really been loaded (lsmsim imports it lazily: a
    deferred module must not be loaded just to be configured)."""
    return sys.modules.get("z3") if "z3.z3" in sys.modules else None


# Whether Z3 should handle SIGINT itself, decided while Z3 was not loaded yet; applied
# by apply_solver_settings() when a solver is first used.
_deferred_ctrl_c: list[bool] = []


def apply_solver_settings() -> None:
    """Apply a Ctrl-C setting that was decided before Z3 was loaded."""
    z3 = _loaded_z3()
    if _deferred_ctrl_c and z3 is not None:
        z3.set_param("ctrl_c", _deferred_ctrl_c.pop())


def interrupt_solvers() -> None:
    """Interrupt the Z3 call running now, if Z3 is in use at all (thread-safe)."""
    z3 = _loaded_z3()
    if z3 is not None:
        z3.main_ctx().interrupt()


class InterruptWatch:
    """What a command learns from :func:`solver_interrupts`: whether the user asked
    to stop (``received``)."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()

    def _repeat(self) -> None:
        """Raise the interrupt in the main thread again unless the command has ended."""
        with self._lock:
            if not self._ended.is_set():
                interrupt_solvers()
                _thread.interrupt_main()

    def _end(self) -> None:
        with self._lock:
            self._ended.set()


@contextlib.contextmanager
def solver_interrupts() -> Iterator[InterruptWatch]:
    """While active, SIGINT interrupts a running Z3 call as well as raising
    ``KeyboardInterrupt``. Outside the main thread, where Python delivers no
    signals, the watch only reports that nothing was received."""
    watch = InterruptWatch()
    if threading.current_thread() is not threading.main_thread():
        yield watch
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:  # signals are not ours to watch here
        os.close(read_end)
        os.close(write_end)
        yield watch
        return
    own_ctrl_c = _solver_ctrl_c(False)
    watcher = threading.Thread(target=_watch, args=(read_end, watch), name="lsmsim-sigint",
                               daemon=True)
    watcher.start()
    try:
        yield watch
    finally:
        signal.set_wakeup_fd(previous)
        _solver_ctrl_c(own_ctrl_c)
        watch._end()
        os.write(write_end, _STOP)
        watcher.join()
        os.close(read_end)
        os.close(write_end)
        if watch.received.is_set():
            _clear_solver_interrupt()


def _clear_solver_interrupt() -> None:
    """Z3 keeps an interrupt that found no call running and fails the next push of
    any solver with it ("push canceled"); a check clears it. For callers that go on
    using Z3 in this process after an interrupted command."""
    z3 = _loaded_z3()
    if z3 is not None:
        z3.Solver().check()


def _solver_ctrl_c(enabled: bool | None) -> bool | None:
    """Set whether Z3 handles SIGINT itself; the previous value. Where Z3 is not
    loaded yet, the setting waits for its first use (:func:`apply_solver_settings`)."""
    z3 = _loaded_z3()
    _deferred_ctrl_c.clear()
    if enabled is None:
        return None
    if z3 is None:
        _deferred_ctrl_c.append(enabled)
        return True  # Z3's own default
    previous = z3.get_param("ctrl_c") != "false"
    z3.set_param("ctrl_c", enabled)
    return previous


def _watch(read_end: int, watch: InterruptWatch) -> None:
    while True:
        received = os.read(read_end, 64)
        if _STOP in received or not received:
            return
        if bytes([signal.SIGINT]) in received:
            watch.received.set()
            interrupt_solvers()
            if watch._ended.wait(_REPEAT_SECONDS):
                return
            # Raising it again sends SIGINT's byte here once more: the next round.
            watch._repeat()
