"""One printer per output format, dispatching on what it prints (SymPy's ``Printer`` pattern).

:class:`TextPrinter`, :class:`LatexPrinter` and :class:`JsonPrinter` differ only in their
``_print_<Type>`` methods; :meth:`Printer.doprint` walks the printed object's class hierarchy and
calls the first method that names one of its classes. Four things are printed:

- a :class:`~crystal_fourier.derive.Basis` (``crystal-fourier basis``): the JSON document of
  :func:`~crystal_fourier.derive._export.basis_document`, keys sorted;
- a :class:`~crystal_fourier.derive.TensorBasis` (``crystal-fourier tensor``): the document of
  :func:`~crystal_fourier.derive.tensor_document`, keys sorted;
- a :class:`~crystal_fourier.derive.StructureFactorForm` (``crystal-fourier structure-factor``): the
  document of :func:`~crystal_fourier.derive.structure_factor_document`, in its own key order;
- a :class:`~crystal_fourier.derive._plane_groups.PlaneStructureFactorForm` (``crystal-fourier
  structure-factor p4gm``): the document of :func:`~crystal_fourier.derive._plane_groups.plane_group_document`.

The documents (what JSON prints) live beside the objects they describe; text and LaTeX are drawn
from the same documents or objects, so a format is one class and a printed thing one method per
format. A new thing to print is one ``_print_<Type>`` method in each printer; a new format is one
printer class registered in :data:`PRINTERS`.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING

import sympy as sp

from crystal_fourier.derive._export import _axes, _conditions, _title, basis_document, factored_expressions
from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._structure_factor_export import form_document
from crystal_fourier.derive._symbolic_forms import closed_form, latex
from crystal_fourier.derive._tensor_export import tensor_document
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from crystal_fourier.derive._bases import Basis
    from crystal_fourier.derive._plane_groups import PlaneStructureFactorForm
    from crystal_fourier.derive._space_groups import SpaceGroup
    from crystal_fourier.derive._structure_factors import StructureFactorForm
    from crystal_fourier.derive._tensors import TensorBasis

__all__ = ["Printer", "TextPrinter", "LatexPrinter", "JsonPrinter", "PRINTERS", "FORMATS", "render",
           "operation_lines"]

_IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
_TENSOR_TITLES = {"symmetric2": "symmetric rank-2 tensor (dielectric permittivity, thermal expansion)",
                  "axial2": "axial symmetric rank-2 tensor (gyration, optical activity)",
                  "piezoelectric": "piezoelectric tensor e_ijk = e_ikj",
                  "elastic": "elastic stiffness tensor c_ijkl"}


class Printer:
    """The base printer: settings, and dispatch on the printed object's class.

    Parameters
    ----------
    quiet : bool, default False
        Text of a basis: only the closed forms, one ``f_i = ...`` per line (``basis --quiet``).
    factored : bool, default False
        Text and JSON of a basis: the closed forms in the structure-factor product form
        (``basis --form factored``).

    Notes
    -----
    A setting that does not concern the printed object is ignored (``quiet`` for a tensor), as
    ``crystal-fourier`` ignores ``--quiet`` with ``--format latex``.
    """

    format = ""

    def __init__(self, *, quiet: bool = False, factored: bool = False) -> None:
        self.quiet = quiet
        self.factored = factored

    def doprint(self, obj: object) -> str:
        """The whole document of ``obj`` in this printer's format.

        Parameters
        ----------
        obj : Basis, TensorBasis or StructureFactorForm
            What to print.

        Returns
        -------
        str
            The document, ending in a newline.

        Raises
        ------
        CrystalFourierError
            When this printer has no method for ``obj``'s class.
        """
        for cls in type(obj).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(obj)
        raise CrystalFourierError(f"the {self.format} printer cannot print a {type(obj).__name__}: expected a Basis, "
                                  "a TensorBasis or a (Plane)StructureFactorForm")


def operation_lines(group: SpaceGroup, axes: int = 3) -> list[str]:
    """The operations as Volume A lists them: the centring translations once, then one line per coset.

    Parameters
    ----------
    group : SpaceGroup
        The setting whose operations are listed (for a plane group, its embedding).
    axes : int, default 3
        2 for a plane group: only the (x, y) parts are written.

    Returns
    -------
    list of str
        A head line, then ``  (i) xyz`` per coset representative.

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> operation_lines(space_group("C2/c"))[:3]
    ['4 x 2 operations: (0,0,0)+ (1/2,1/2,0)+', '  (1) x,y,z', '  (2) -x,-y,-z']
    """
    centring = [op.translation_24 for op in group.operations if op.rotation == _IDENTITY]
    first = {}
    for op in group.operations:
        first.setdefault(op.rotation, op)
    representatives = list(first.values())
    if len(centring) > 1:
        translations = " ".join("(" + ",".join(str(Fraction(v, DEN)) for v in t[:axes]) + ")+" for t in centring)
        head = f"{len(representatives)} x {len(centring)} operations: {translations}"
    else:
        head = f"{len(representatives)} operations:"
    return [head, *(f"  ({i}) {','.join(op.xyz.split(',')[:axes])}" for i, op in enumerate(representatives, start=1))]


def _structure_factor_lines(document: dict) -> list[str]:
    """The classes and the reflection conditions, as the text of every structure-factor form prints them."""
    lines = []
    for c in document["classes"]:
        lines += ["", f"{c['condition']}:", f"  A = {c['A']}", f"  B = {c['B']}"]
    lines += ["", "reflection conditions (International Tables Vol. A):"]
    lines += [f"  {text}" for text in document["reflection_conditions"]] or ["  none"]
    return lines


def _latex_classes(title: str, document: dict, evaluate: bool = False) -> str:
    """An ``align*`` row per class of a structure-factor document, its strings parsed back (unevaluated, so that
    LaTeX shows what text shows; a plane group's evaluated, as its LaTeX has always been printed)."""
    locals_ = {s: sp.Symbol(s) for s in "hklxyz"}
    rows = []
    for c in document["classes"]:
        condition = sp.latex(sp.sympify(c["condition"], locals=locals_))
        a = sp.latex(sp.sympify(c["A"], locals=locals_, evaluate=evaluate))
        b = sp.latex(sp.sympify(c["B"], locals=locals_, evaluate=evaluate))
        rows.append(rf"&\text{{if }} {condition}: & A &= {a}, & B &= {b}")
    return "\n".join([f"% Structure-factor forms of {title}", r"\begin{align*}", " \\\\\n".join(rows),
                      r"\end{align*}"]) + "\n"


class TextPrinter(Printer):
    """Human-readable text (what every command prints by default).

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> TextPrinter(quiet=True).doprint(basis(4, 1, "box")).splitlines()[1]
    'f_1 = cos(2*pi*x)'
    """

    format = "text"

    def _print_Basis(self, basis: Basis) -> str:
        group = basis.group
        functions = basis.real.functions()
        expressions = factored_expressions(basis) if self.factored else [closed_form(f) for f in functions]
        if self.quiet:
            return "".join(f"f_{i} = {e}\n" for i, e in enumerate(expressions))
        summary = basis.summary()
        conditions = _conditions(basis)
        n = _axes(basis)
        lines = [
            _title(basis) + ("" if basis.plane_group else f" [{group.hall_symbol}]"),
            f"shell {basis.frequencies.shell}, cutoff {basis.frequencies.cutoff}: "
            f"{summary['n_frequencies']} frequencies, {summary['n_present_orbits']} present orbits, "
            f"{summary['n_absent_orbits']} absent orbits, dim {summary['dim']} (k = 0 included)",
            *operation_lines(group, n),
            "reflection conditions:" + ("" if conditions else " none"),
            *(f"  {text}" for text in conditions),
            "",
            "orbits (representative, size, status):",
        ]
        for index, orbit in enumerate(basis.decomposition.orbits()):
            if orbit.absent:
                status = f"absent, witness {','.join(group.operations[orbit.witness].xyz.split(',')[:n])}"
            else:
                status = "centric" if orbit.centric else "acentric"
            representative = " ".join(map(str, orbit.representative[:n]))
            lines.append(f"  [{index}] ({representative})  x{len(orbit.members)}  {status}")
        lines += ["", "basis functions f_i(x, y, z):" if n == 3 else "basis functions f_i(x, y):"]
        for index, function in enumerate(functions):
            lines.append(f"  f_{index} [orbit {function.orbit}, {function.part}] = {expressions[index]}")
        return "\n".join(lines) + "\n"

    def _print_TensorBasis(self, basis: TensorBasis) -> str:
        doc = tensor_document(hall_number=basis.hall_number, kind=basis.kind)
        independent = ", ".join(doc["independent"]) or "none (the property is forbidden)"
        lines = [
            f"{doc['symbol']} (No. {doc['sg']}), Hall number {doc['hall_number']} [{doc['hall_symbol']}], "
            f"point group {doc['point_group']}",
            f"{_TENSOR_TITLES[doc['kind']]}: {doc['dimension']} independent components: {independent}",
            f"frame: {doc['frame']}",
        ]
        width = max(len(entry) for row in doc["voigt"] for entry in row)
        lines += ["  " + "  ".join(entry.rjust(width) for entry in row) for row in doc["voigt"]]
        if doc["relations"]:
            lines.append("relations: " + ", ".join(f"{name} = {value}" for name, value in doc["relations"].items()))
        return "\n".join(lines) + "\n"

    def _print_StructureFactorForm(self, form: StructureFactorForm) -> str:
        document = form_document(form)
        n_classes = len(document["classes"])
        lines = [f"# Structure-factor forms of {document['symbol']} (No. {document['sg']}, Hall number "
                 f"{document['hall_number']}, {document['hall_symbol']}): {document['n_operations']} operations",
                 f"# {document['convention']}",
                 f"# {n_classes} class{'es' if n_classes != 1 else ''}, "
                 f"{document['n_factors']} trigonometric factors "
                 f"(the plain operation sum has {document['n_factors_plain_sum']})",
                 *_structure_factor_lines(document)]
        lines += ["centric zones and restricted phases (Vol. B, A1.4.4):"]
        lines += [f"  {text}" for text in document["centric_zones"]] or ["  none"]
        return "\n".join(lines) + "\n"

    def _print_PlaneStructureFactorForm(self, form: PlaneStructureFactorForm) -> str:
        document = form.document()
        lines = [f"# Structure-factor forms of the plane group {document['symbol']} (No. {document['plane_group']}): "
                 f"{document['n_operations']} operations: " + "; ".join(document["operations"]),
                 f"# {document['convention']}", *_structure_factor_lines(document)]
        return "\n".join(lines) + "\n"


class LatexPrinter(Printer):
    """LaTeX: an ``align*`` block per basis or structure-factor form, a ``pmatrix`` per tensor.

    Examples
    --------
    >>> from crystal_fourier.derive import tensor_basis
    >>> print(LatexPrinter().doprint(tensor_basis(225, "symmetric2")))
    % Fm-3m (No. 225), Hall number 523, point group m-3m, symmetric2: 1 independent
    \\begin{pmatrix}
    \\varepsilon_{11} & 0 & 0 \\\\
    0 & \\varepsilon_{11} & 0 \\\\
    0 & 0 & \\varepsilon_{11}
    \\end{pmatrix}
    <BLANKLINE>
    """

    format = "latex"

    def _print_Basis(self, basis: Basis) -> str:
        lines = [
            f"% {_title(basis)}, "
            f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff}, dim {basis.dim}",
            "\\begin{align*}",
        ]
        functions = basis.real.functions()
        for index, function in enumerate(functions):
            end = " \\\\" if index < len(functions) - 1 else ""
            lines.append(f"f_{{{index}}} &= {latex(closed_form(function))}{end}")
        lines.append("\\end{align*}")
        return "\n".join(lines) + "\n"

    def _print_TensorBasis(self, basis: TensorBasis) -> str:
        doc = tensor_document(hall_number=basis.hall_number, kind=basis.kind)
        rows = [" & ".join(row) for row in doc["voigt_latex"]]
        return "\n".join([
            f"% {doc['symbol']} (No. {doc['sg']}), Hall number {doc['hall_number']}, point group "
            f"{doc['point_group']}, {doc['kind']}: {doc['dimension']} independent",
            "\\begin{pmatrix}",
            " \\\\\n".join(rows),
            "\\end{pmatrix}",
        ]) + "\n"

    def _print_StructureFactorForm(self, form: StructureFactorForm) -> str:
        document = form_document(form)
        return _latex_classes(f"{document['symbol']} (No. {document['sg']}, Hall number {document['hall_number']})",
                              document)

    def _print_PlaneStructureFactorForm(self, form: PlaneStructureFactorForm) -> str:
        document = form.document()
        return _latex_classes(f"the plane group {document['symbol']}", document, evaluate=True)


class JsonPrinter(Printer):
    """JSON text of each object's document, indented by one, ending in a newline.

    Examples
    --------
    >>> from crystal_fourier.derive import tensor_basis
    >>> json.loads(JsonPrinter().doprint(tensor_basis(221, "piezoelectric")))["dimension"]
    0
    """

    format = "json"

    def _print_Basis(self, basis: Basis) -> str:
        return json.dumps(basis_document(basis, factored=self.factored), sort_keys=True, indent=1) + "\n"

    def _print_TensorBasis(self, basis: TensorBasis) -> str:
        document = tensor_document(hall_number=basis.hall_number, kind=basis.kind)
        return json.dumps(document, sort_keys=True, indent=1) + "\n"

    def _print_StructureFactorForm(self, form: StructureFactorForm) -> str:
        # The document's own key order (setting, classes, conditions) is the published contract (issue 30).
        return json.dumps(form_document(form), indent=1) + "\n"

    def _print_PlaneStructureFactorForm(self, form: PlaneStructureFactorForm) -> str:
        return json.dumps(form.document(), indent=1) + "\n"


PRINTERS: dict[str, type[Printer]] = {"text": TextPrinter, "latex": LatexPrinter, "json": JsonPrinter}
"""The printer of each output format, by the name ``--format`` takes."""

FORMATS = tuple(PRINTERS)
"""The output formats: ``'text'``, ``'latex'``, ``'json'``."""


def render(obj: object, fmt: str = "text", *, quiet: bool = False, factored: bool = False) -> str:
    """Print a basis, an allowed-tensor basis or a (plane group's) structure-factor form in one of :data:`FORMATS`.

    What ``crystal-fourier basis``, ``tensor`` and ``structure-factor`` print with ``--format``.

    Parameters
    ----------
    obj : Basis, TensorBasis, StructureFactorForm or PlaneStructureFactorForm
        From :func:`~crystal_fourier.derive.basis`, :func:`~crystal_fourier.derive.tensor_basis` or
        :func:`~crystal_fourier.derive.structure_factor_form`.
    fmt : {'text', 'latex', 'json'}, default 'text'
        The output format (:class:`TextPrinter`, :class:`LatexPrinter`, :class:`JsonPrinter`).
    quiet : bool, default False
        Text of a basis: just the functions (``basis --quiet``).
    factored : bool, default False
        Text and JSON of a basis: each function's product form (``basis --form factored``).

    Returns
    -------
    str
        The whole document, ending in a newline.

    Raises
    ------
    CrystalFourierError
        An unknown format, or an object no printer prints.

    Examples
    --------
    >>> from crystal_fourier.derive import basis, tensor_basis
    >>> render(basis(2, 1, "box")).splitlines()[0]
    'P-1 (No. 2), Hall number 2 [-P 1]'
    >>> render(basis(2, 1, "box"), "latex").splitlines()[0]
    '% P-1 (No. 2), Hall number 2, box cutoff 1, dim 14'
    >>> render(tensor_basis(225, "elastic")).splitlines()[1]
    'elastic stiffness tensor c_ijkl: 3 independent components: C11, C12, C44'
    """
    printer = PRINTERS.get(fmt)
    if printer is None:
        raise CrystalFourierError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return printer(quiet=quiet, factored=factored).doprint(obj)
