"""The route method's programme in a plain child process: ``python -P -m corridor.solve.convoy.route_child``.

Used by :mod:`.route_method` where no ``multiprocessing`` child may be started: in a daemonic process
such as a Dask worker running a convoy plan job. The parent writes one request on the child's standard
input: its length (:data:`~.route_method.LENGTH`), then the pickled ``(problem, legs, sizes, budget)``.
The child runs :func:`~.route_method.programme` and answers on a private copy of its standard output,
each message its length, then the message pickled (:class:`~.route_method.Solved`, ..., the last
word); the descriptor of its standard output then points at the parent's standard error, so that
nothing printed there mixes with the answers. The parent never writes again: the child watches its
standard input and ends when it closes (the parent died, or stopped it), whatever the programme is
doing; on Linux the kernel also kills it when its parent ends.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import threading
from typing import IO, BinaryIO

from corridor.solve.convoy.route_method import LENGTH, programme
from corridor.solve.cpsat_process import read_exactly

_PR_SET_PDEATHSIG = 1


class Sender:
    """The child's end: each message sent as its length and its pickle, at once."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.stream.write(LENGTH.pack(len(data)) + data)
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


def _watch(requests: IO[bytes]) -> None:
    """End the process when the parent's end of standard input closes."""
    try:
        while requests.read(1 << 16):
            pass
    finally:
        os._exit(0)


def _die_with_parent(parent: int) -> None:
    """On Linux, also be killed by the kernel when the parent ends. The watcher needs the interpreter's
    lock: it ended the child within 0.02 s of its parent's SIGKILL in the middle of an LP (SciPy's HiGHS
    lets the lock go), but a solver that held it would keep the child to the end of its LP."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the call above
        os._exit(0)


def main() -> None:
    """Read the request, start the watcher, run the programme, answering on standard output."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; a Ctrl-C reaches both
    parent = int(os.environ.get("CORRIDOR_ROUTE_PARENT", "0"))
    if parent:
        _die_with_parent(parent)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    try:
        (length,) = LENGTH.unpack(read_exactly(requests, LENGTH.size))
        data = read_exactly(requests, length)
    except EOFError:
        return
    threading.Thread(target=_watch, args=(requests,), daemon=True).start()
    problem, legs, sizes, budget = pickle.loads(data)
    programme(problem, legs, sizes, budget, Sender(answers))


if __name__ == "__main__":
    main()
