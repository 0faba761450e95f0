"""The ``eventstudy`` command: thin click shells over the public functions.

``base`` holds the group, the shared options and the error guard; ``studies`` the study commands
(lockup, batch, garch, simulate, fetch, listing); ``calendar`` the listings and upcoming
commands. Every error eventstudy raises on purpose becomes one line on stderr and exit code 2
(bad input or usage) or 3 (data unavailable). Command modules import pandas and the engine
inside the command, so ``eventstudy --help`` stays fast.
"""

from eventstudy.cli import calendar, studies  # noqa: F401  (registers the commands)
from eventstudy.cli.base import main

__all__ = ["main"]
