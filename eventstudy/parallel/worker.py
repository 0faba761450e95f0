"""A one-shot worker process for ``threads.isolated``: reads a pickled ``(func, args, kwargs)``
from stdin (written by the parent eventstudy process, never by a user), runs it with one BLAS
thread and writes the pickled ``("ok", result)`` or ``("error", exception)`` to stdout. Started
as ``python -m eventstudy.parallel.worker``, so no caller's ``__main__`` is imported."""

from __future__ import annotations

import pickle
import sys


def main() -> None:
    func, args, kwargs = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our parent's
    from eventstudy.parallel.threads import _limited

    try:
        out: tuple[str, object] = ("ok", _limited(func, args, kwargs))
    except Exception as exc:  # noqa: BLE001 - handed back to the parent, which raises it
        out = ("error", exc)
    sys.stdout.buffer.write(pickle.dumps(out))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
