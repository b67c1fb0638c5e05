"""What the figures share: the lazy matplotlib import, the style, the palette and the writing of a file."""

from __future__ import annotations

import contextlib
import functools
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hemkg.errors import ExtraNotInstalled, OutputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = "pip install 'hemkg[plot]'"

# Okabe & Ito's palette (Color Universal Design, 2008): told apart with every common colour-vision deficiency.
OKABE_ITO = {"orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000"}
GREY = "#BBBBBB"
LIGHT = "#F2F2F2"

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
PNG_DPI = 300

STYLE = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False,
    "axes.linewidth": 0.8, "xtick.major.width": 0.8, "ytick.major.width": 0.8, "font.family": "DejaVu Sans",
    "svg.fonttype": "none",  # SVG text stays text: searchable, editable in a drawing program
    "pdf.fonttype": 42,
}


def require_matplotlib() -> Any:
    """The matplotlib module, or an ExtraNotInstalled error that says how to install it."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401  # the renderer every figure uses
    except ImportError as err:
        raise ExtraNotInstalled(f"figures need matplotlib, which is not installed ({err})", INSTALL_HINT) from None
    return matplotlib


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The figures' settings, for the figure being built only (a notebook's own settings are left as they are)."""
    matplotlib = require_matplotlib()
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float, layout: Literal["constrained"] | None = "constrained") -> Figure:
    """A figure of `width` x `height` inches on the Agg canvas, made without pyplot (no global state);
    its size is kept when saved (no tight bounding box), so a PNG is width x height x 300 pixels."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = _figure_class()(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(figure)
    return figure


@functools.cache
def _figure_class() -> type[Figure]:
    """matplotlib's Figure that a notebook shows by itself (a PNG), whatever backend pyplot has, or none."""
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            with style():
                self.savefig(buffer, format="png", dpi=150)
            return buffer.getvalue()

    return NotebookFigure


def answer_of(candidate: str | Mapping[str, Any], ion: str) -> dict[str, Any]:
    """The JSON answer (answers/summary.py) for a formula, consulted for `ion`; a given answer as it is."""
    if isinstance(candidate, Mapping):
        return dict(candidate)
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import consult

    return summarise(consult(candidate, ion))


def format_of(path: os.PathLike[str] | str) -> str:
    """'fig.svg' -> 'svg'; an OutputError for a suffix matplotlib is not asked to write."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OutputError(f"cannot tell the figure's format from '{Path(path).name}'",
                          f"end the file name with {', '.join(FORMATS)}")
    return FORMATS[suffix]


def check_target(path: os.PathLike[str] | str) -> Any:
    """Fail before any work when `path` has no figure suffix or cannot be written (system.outputs)."""
    from hemkg.system import outputs

    format_of(path)
    return outputs.check(path)


def save(figure: Figure, path: os.PathLike[str] | str) -> Path:
    """Write `figure` to `path` (PNG at 300 dpi, SVG or PDF, from the suffix) through a temporary file,
    so that a failure leaves nothing half-written and an earlier file whole. Returns the path."""
    from hemkg.system import outputs

    fmt = format_of(path)
    target = check_target(path)
    with style():
        outputs.write(target, lambda stream: figure.savefig(stream, format=fmt, dpi=PNG_DPI))
    return Path(path)
