"""Ctrl+C during ``fit`` never leaves a half-applied optimizer step.

``fit`` installs ``handler`` for SIGINT (only in the main thread, and only when Python's
default handler is in place) and removes it at the end. Outside the optimizer step the
handler raises KeyboardInterrupt at once, exactly like Python's default. Inside the step
(``Optimizer.apply_flat``: the C++ update, then ``iterations``, Nadam's μ product and the
slot layout) it only records the request; ``apply_flat`` raises KeyboardInterrupt right
after the step is complete. So an interrupted ``fit`` stops within the current batch, with
the weights and the optimizer state of a whole number of steps — and, as in Keras, the
KeyboardInterrupt propagates to the caller (``model.history`` keeps the finished epochs).
"""
import signal
import threading


class _State:
    __slots__ = ("critical", "pending", "previous")

    def __init__(self):
        self.critical = False
        self.pending = False
        self.previous = None


state = _State()


def handler(signum, frame):
    if state.critical:
        state.pending = True
        return
    uninstall()  # (also if fit left through an exception without uninstalling)
    raise KeyboardInterrupt


def install():
    if state.previous is not None or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    state.previous = signal.signal(signal.SIGINT, handler)


def uninstall():
    if state.previous is not None and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, state.previous)
        state.previous = None
    state.pending = False


def raise_if_pending():
    """Called at the end of a critical section."""
    if state.pending:
        state.pending = False
        raise KeyboardInterrupt
