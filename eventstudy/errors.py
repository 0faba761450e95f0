"""The exception types of eventstudy and the CLI exit codes they map to.

Library code raises these with a message a person can act on; the CLI prints the message on
one line and exits with ``exit_code``; a batch turns them into skipped events, the message
being the reason."""

from __future__ import annotations


class EventStudyError(Exception):
    """Base class of every error eventstudy raises on purpose."""

    exit_code = 2


class BadInput(EventStudyError, ValueError):
    """The input (ticker, dates, windows, files, options) cannot be used as given. Exit code 2."""

    exit_code = 2


class ConfigError(BadInput):
    """A configuration file (listings calendar, events file) is malformed. Exit code 2."""


class DataUnavailable(EventStudyError):
    """The data needed is not available from any source (unknown ticker, no network, no file).

    Exit code 3.
    """

    exit_code = 3


class EstimationError(BadInput):
    """A model cannot be estimated on the data (too few sessions, constant returns). Exit code 2."""
