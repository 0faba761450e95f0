"""``python -m eventstudy.cli``: the same command as the ``eventstudy`` script."""

from __future__ import annotations

from eventstudy.cli.base import main

if __name__ == "__main__":  # pragma: no cover
    main()
