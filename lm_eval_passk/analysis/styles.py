"""Line styles for figures with many curves: each curve differs from its neighbours in
colour, dash pattern and marker, so a dozen runs stay apart on screen and in greyscale."""

from __future__ import annotations

from dataclasses import dataclass

# matplotlib's tab10 (colour-blind safer than its default cycle beyond 6 lines).
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
# 4 dashes and 7 markers: with 10 colours the cycle lengths are 10, 4 and 7, so the
# first lcm(10, 4, 7) = 140 curves all get a distinct (colour, dash, marker); in greyscale
# (colour lost) the first lcm(4, 7) = 28 still differ in dash or marker.
DASHES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


@dataclass(frozen=True)
class Style:
    colour: str
    dash: str
    marker: str

    def kwargs(self) -> dict[str, str]:
        """Keyword arguments for matplotlib's `plot`."""
        return {"color": self.colour, "linestyle": self.dash, "marker": self.marker}


def style(index: int) -> Style:
    """The style of the `index`-th curve of a figure."""
    return Style(COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)], MARKERS[index % len(MARKERS)])
