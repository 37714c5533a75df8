"""Named tolerances of the runtime that the command line also needs (no numpy import here).

The command line builds its parsers before it imports anything heavy, so a default that
appears in ``--help`` lives in this light module; :mod:`crystal_fourier.runtime.symmetry._standardization`
re-exports it, and every other user (TrainConfig, ``train``/``predict``/``evaluate``
``--symprec``, the documentation) takes it from there. One value, one place.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SYMPREC", "SYMPREC_RETRY_SEQUENCE"]

DEFAULT_SYMPREC = 0.1
"""spglib distance tolerance in Angstrom: CDVAE's, and the one at which the shared data sets
(carbon-24, perov-5) have the group statistics their README states. It is also where detection
is most stable: giving the first 400 validation structures with their atoms permuted and the
origin shifted changes the detected group for 1.5% of carbon-24 and 0.25% of perov-5 at 0.1,
but for 17% and 3% at 1e-2 (pymatgen's default), which lies inside the noise of relaxed
structures. The price: distortions smaller than 0.1 A are symmetrized away (about a third of
perov-5's tilted structures, groups 25 and 99, become 123, 47 or 221). Pass ``symprec=1e-3`` to
keep them. A trained model stores the value it used (``config.json``), and ``predict`` and
``evaluate`` reuse it unless given ``--symprec``."""

SYMPREC_RETRY_SEQUENCE = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
"""Tolerances (Angstrom) tried in turn when spglib finds no symmetry at the requested one: after the
requested symprec fails, every value of this sequence below it, largest first. Real files fail at
0.1 A when two atoms (often a split or partially occupied site) lie closer than 0.1 A; they read at
1e-2 or 1e-3. 1e-5 A is far below any refined coordinate's precision; below it spglib's own
arithmetic would decide. The tolerance that worked is reported (``StandardizedCrystal.symprec``,
``predict``'s ``symprec`` column)."""
