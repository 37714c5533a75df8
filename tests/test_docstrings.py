"""complete_docstrings: an override gets its interface's Parameters and Returns, never loses its own words."""

from __future__ import annotations

import inspect

from crystal_fourier._docstrings import complete_docstrings
from crystal_fourier.audit import SavedModel
from crystal_fourier.runtime import ElasticTarget, ScalarTarget


class _Interface:
    def run(self, x):
        """Run.

        Parameters
        ----------
        x : int
            The input.

        Returns
        -------
        int
            The output.

        Examples
        --------
        >>> 1
        1
        """

    def plain(self):
        """No parameters to document."""


def _implementation():
    class Implementation(_Interface):
        def run(self, x):
            """Twice ``x``.

            Notes
            -----
            Exact.
            """

        def plain(self):
            """Nothing."""

    class Specific(_Interface):
        def run(self, x):
            """Twice ``x``.

            Returns
            -------
            int
                Even.
            """

    class Own(_Interface):
        def run(self, x):
            """Own.

            Parameters
            ----------
            x : float
                Other.
            """

    for cls in (Implementation, Specific, Own):
        complete_docstrings(cls, _Interface)
    return Implementation, Specific, Own


def test_an_override_takes_the_interface_sections_in_numpydoc_order():
    implementation, specific, own = _implementation()
    assert inspect.getdoc(implementation.run) == ("Twice ``x``.\n\nParameters\n----------\nx : int\n    The input.\n\n"
                                                  "Returns\n-------\nint\n    The output.\n\nNotes\n-----\nExact.")
    assert inspect.getdoc(implementation.plain) == "Nothing."   # the interface has no Parameters to give
    assert inspect.getdoc(specific.run).endswith("Parameters\n----------\nx : int\n    The input.\n\n"
                                                 "Returns\n-------\nint\n    Even.")
    assert inspect.getdoc(own.run) == "Own.\n\nParameters\n----------\nx : float\n    Other."


def test_the_targets_and_adapters_document_their_parameters():
    doc = inspect.getdoc(ScalarTarget.loss)
    assert doc.startswith("Squared error of the normalised prediction")
    assert "share : float" in doc
    assert "Returns\n-------\ntuple of float or None" in inspect.getdoc(ElasticTarget.raw_label)
    assert "crystals : list of Crystal" in inspect.getdoc(SavedModel.evaluate_many)
