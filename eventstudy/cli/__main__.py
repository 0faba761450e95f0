"""The ``eventstudy`` command: thin click shells over ``eventstudy.study`` and friends.

Every error eventstudy raises on purpose becomes one line on stderr and exit code 2 (bad input or
usage) or 3 (data unavailable); anything unexpected is one line and exit code 1 (``--debug``
shows the traceback)."""

from __future__ import annotations

from eventstudy.cli.base import main

if __name__ == "__main__":  # pragma: no cover
    main()
