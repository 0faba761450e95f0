"""Matplotlib figures of events and of volatility; functions of frames and arrays that return
``matplotlib.figure.Figure`` objects (no pyplot state), used by result plot methods and reports."""
