"""Matplotlib plots of events and of volatility: functions of arrays, frames or an
``EventVolatility`` that draw into the caller's ``ax=`` (``axes=`` for multi-panel plots) or a new
``matplotlib.figure.Figure`` outside pyplot, and return the Figure (``plotting.axes``); used by
the result's plot methods (``results.plots``) and the report (``report.figures``)."""
