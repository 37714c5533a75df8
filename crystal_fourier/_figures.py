"""Deterministic matplotlib rendering: one style, one canvas, bytes out.

matplotlib is the optional extra ``plot`` and is imported only inside these
functions, so ``crystal-fourier basis`` never imports it. No pyplot and no
backend switch: every figure is a :class:`matplotlib.figure.Figure` on its own
``FigureCanvasAgg``. The style is matplotlib's built-in default plus
:data:`STYLE` (bundled DejaVu fonts, fixed dpi, a fixed SVG hash salt), applied
with ``matplotlib.style.context`` so that a user's matplotlibrc cannot change
the picture; PNG and SVG metadata carry no software version or date, so the
same inputs give the same bytes on the same matplotlib.

It sits at the foundation of the package (it imports only the atomic writer and the error type) because
two clients draw with it: the pictures of ``crystal_fourier.visual`` and the audit's summary picture.
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from crystal_fourier._atomic import atomic_write_bytes
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["FORMATS", "STYLE", "DPI", "require_matplotlib", "render_figure", "write_bytes_atomic"]

FORMATS = ("png", "svg")
DPI = 100
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10.0,
    "mathtext.fontset": "dejavusans",
    "svg.fonttype": "path",
    "svg.hashsalt": "crystal-fourier",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "axes.unicode_minus": True,
}
"""rcParams laid over matplotlib's defaults for every picture."""

_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def require_matplotlib() -> ModuleType:
    """Import matplotlib or raise a :class:`CrystalFourierError` naming the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise CrystalFourierError(
            "pictures need matplotlib, the optional extra 'plot': pip install 'crystal-fourier[plot]'"
        ) from None
    return matplotlib


def render_figure(draw, size: tuple[float, float], fmt: str = "png", *, dpi: int = DPI,
                  tight: bool = False) -> bytes:
    """Create a figure of ``size`` inches, let ``draw(figure)`` fill it, and return its bytes.

    Drawing and saving both happen inside the fixed style, so the bytes depend
    only on what ``draw`` does (and the matplotlib version).

    Raises
    ------
    CrystalFourierError
        Unknown format, or matplotlib is not installed.

    Examples
    --------
    >>> png = render_figure(lambda fig: fig.text(0.5, 0.5, "$\\\\pi$"), (1, 1))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", png == render_figure(lambda fig: fig.text(0.5, 0.5, "$\\\\pi$"), (1, 1))
    (True, True)
    """
    if fmt not in FORMATS:
        raise CrystalFourierError(f"unknown picture format {fmt!r}: expected one of {', '.join(FORMATS)}")
    require_matplotlib()
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context(["default", STYLE]):
        figure = Figure(figsize=size, dpi=dpi)
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = BytesIO()
        extra = {"bbox_inches": "tight", "pad_inches": 0.02} if tight else {}
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA[fmt], **extra)
    return buffer.getvalue()


def write_bytes_atomic(path, data: bytes) -> bool:
    """Write a picture atomically; False when the file already holds these bytes."""
    return atomic_write_bytes(path, data)
