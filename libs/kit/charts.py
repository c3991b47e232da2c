"""Charts of the HTML reports (matplotlib, PNG): each on a figure of its own, outside pyplot's
registry, whose global state is not thread-safe (reports are drawn in threads, maybe two at
once); one font for all, with every Vietnamese letter."""

from __future__ import annotations

import io

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

matplotlib.rcParams["font.family"] = "DejaVu Sans"  # ships with matplotlib and has every Vietnamese letter


def new_figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A new figure with one set of axes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def to_png(fig: Figure) -> bytes:
    """The figure as PNG, laid out and cropped to what it draws."""
    out = io.BytesIO()
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    return out.getvalue()
