"""The audit of each crystal as one unit of work: run here, in local workers or on Dask, journaled, resumable.

:func:`~crystal_fourier.audit.audit` hands its crystals to :func:`audit_crystals`, which maps
:func:`audit_crystal` over them with the package's one engine (:func:`crystal_fourier._engine.map_in_order`),
one crystal per chunk, and collects the results in input order. Each crystal's draws come from its own
random streams, seeded by (seed, crystal index, kind), so the checks are the same whichever worker
computes them: the report is the same for 1, 2 or N workers.

With a journal (``audit --out DIR`` writes DIR/checks.jsonl) each finished crystal is appended as one
JSON line: its checks, model errors, and the outputs of its failed cases. ``--resume`` reads them back
and audits only the crystals the journal lacks; the failed cases' re-descriptions are drawn again from
the same seeds (no model call), so the reproducer scripts of a resumed audit are the ones of a whole run.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from crystal_fourier.audit._adapters import ModelAdapter
    from crystal_fourier.audit._claims import Claim
    from crystal_fourier.runtime import Crystal

__all__ = ["AuditSettings", "CrystalResult", "audit_crystal", "audit_crystals", "audit_models"]

JOURNAL_FORMAT = "crystal-fourier audit checks 3"
"""Names the journal's format in its header line (a resumed run refuses another). 3: the two-step
``continuity`` check and the ``derivatives`` float64 reruns (their checks differ from format 2's)."""


@dataclass(frozen=True)
class AuditSettings:
    """What every crystal of one audit is checked with (the options of :func:`~crystal_fourier.audit.audit`)."""

    claim: Claim
    kinds: tuple[str, ...]
    seed: int
    per_kind: "int | None"
    symprec: "float | None"
    max_atoms: "int | None"
    timeout: "float | None"


@dataclass(frozen=True)
class CrystalResult:
    """The audit of one crystal: its checks, the model's errors, the skipped improper operations, the
    seconds in the model, and the failed cases as (kind, label) -> (Redescription, reference, got)."""

    index: int
    name: str
    checks: tuple
    errors: tuple
    skipped: int
    model_seconds: float
    cases: dict


def audit_models(model: object, dtype: "str | None") -> "tuple[ModelAdapter, ModelAdapter | None]":
    """The adapter of ``model`` in ``dtype``, and its float64 twin for reruns of a float32 model's failures.

    Parameters
    ----------
    model : object
        Anything :func:`~crystal_fourier.audit.as_model` takes.
    dtype : str or None
        ``'float32'``, ``'float64'``, or None / ``'auto'`` (the adapter's own).

    Returns
    -------
    (ModelAdapter, ModelAdapter or None)
        The adapter, and the twin (None for a float64 adapter, or one without a twin).
    """
    from crystal_fourier.audit._audit import _with_dtype
    from crystal_fourier.audit._specs import as_model

    adapter = as_model(model)
    if dtype not in (None, "auto"):
        adapter = _with_dtype(adapter, dtype)
    return adapter, (adapter.in_float64() if adapter.dtype != np.float64 else None)


_BUILT = threading.local()


def _worker_models(spec: str, dtype: "str | None"):
    """The model of a worker, built once per process and thread from its spec (not once per crystal).

    Per thread: a Dask worker runs tasks in threads, and a model such as an ASE calculator keeps
    per-call state (its atoms, its neighbour list) that two threads would overwrite.
    """
    built = getattr(_BUILT, "models", None)
    if built is None or built[0] != (spec, dtype):
        built = _BUILT.models = ((spec, dtype), audit_models(spec, dtype))
    return built[1]


def audit_crystal(models: tuple, settings: AuditSettings, item: tuple) -> CrystalResult:
    """Audit one crystal: draw its re-descriptions, call the model, compare.

    Parameters
    ----------
    models : (ModelAdapter, ModelAdapter or None)
        The adapter and its float64 twin (:func:`audit_models`).
    settings : AuditSettings
        The audit's options.
    item : (int, str, Crystal, list of Crystal)
        The crystal's index (which seeds its random streams), its name, the crystal, and its partners in
        the ``batch`` kind's batch (:func:`~crystal_fourier.audit._batch.batch_partners`; empty without it).

    Returns
    -------
    CrystalResult
    """
    from crystal_fourier.audit._audit import _chosen, _run_crystal
    from crystal_fourier.audit._batch import batch_checks
    from crystal_fourier.audit._continuity import continuity_checks
    from crystal_fourier.audit._derivatives import derivative_checks
    from crystal_fourier.audit._kinds import KINDS
    from crystal_fourier.audit._symmetry_redescriptions import _standard

    adapter, float64 = models
    index, name, crystal, partners = item
    claim = settings.claim
    chosen, improper = _chosen(crystal, index, settings.kinds, claim, seed=settings.seed, per_kind=settings.per_kind,
                               symprec=settings.symprec, max_atoms=settings.max_atoms)
    group = _standard(crystal, settings.symprec).number
    checks, cases, errors = [], {}, []
    seconds = _run_crystal(adapter, float64, claim, name=name, group=group, crystal=crystal, chosen=chosen,
                           timeout=settings.timeout, into=(checks, cases, errors))
    for kind, probe in (("derivatives", derivative_checks), ("continuity", continuity_checks)):
        if kind in settings.kinds:
            found, failed, more = probe(
                adapter, crystal, claim, name=name, group=group, timeout=settings.timeout, float64=float64,
                **({"symprec": settings.symprec} if kind == "continuity" else {}),
                count=settings.per_kind or 3 if kind == "derivatives" else min(settings.per_kind or 2, 2),
                rng=np.random.default_rng([settings.seed, index, KINDS.index(kind)]))
            checks += found
            errors += failed
            seconds += more
    if "batch" in settings.kinds:
        found, failed, more = batch_checks(
            adapter, crystal, partners, claim, name=name, group=group, timeout=settings.timeout,
            rng=np.random.default_rng([settings.seed, index, KINDS.index("batch"), 1]))
        checks += found
        errors += failed
        seconds += more
    return CrystalResult(index, name, tuple(checks), tuple(errors), improper, seconds,
                         {(kind, label): value for (_, kind, label), value in cases.items()})


def _audit_chunk(model: object, settings: AuditSettings, chunk: list) -> list[CrystalResult]:
    """What an engine worker runs: the crystals of one chunk, with the model built once per process."""
    models = _worker_models(*model[1:]) if isinstance(model, tuple) and model[0] == "spec" else model
    return [audit_crystal(models, settings, item) for item in chunk]


def audit_crystals(models: tuple, settings: AuditSettings, labels: list[str], crystals: "list[Crystal]", *,  # noqa: PLR0913
                   dtype: "str | None", workers: int = 1, scheduler: "str | None" = None,
                   journal: "str | os.PathLike[str] | None" = None, resume: bool = False,
                   progress=None) -> list[CrystalResult]:
    """Audit every crystal with the engine, in input order; journal each one; skip those a resumed journal holds.

    Parameters
    ----------
    models : (ModelAdapter, ModelAdapter or None)
        The adapter and its float64 twin, as built here (workers rebuild them from the adapter's spec).
    settings : AuditSettings
        The audit's options.
    labels : list of str
        One name per crystal.
    crystals : list of Crystal
        The crystals.
    dtype : str or None
        The dtype option, for workers that rebuild the model from its spec.
    workers : int, default 1
        Local worker processes.
    scheduler : str, optional
        A Dask distributed scheduler address.
    journal : str or os.PathLike, optional
        The JSON-lines file of finished crystals (one line each).
    resume : bool, default False
        Keep the crystals the journal already holds (same options), audit the others.
    progress : object, optional
        A bar with ``update(n)``.

    Returns
    -------
    list of CrystalResult
        One per crystal, in input order.
    """
    from crystal_fourier._engine import chunked, map_in_order
    from crystal_fourier._journal import Journal

    if settings.timeout is not None and scheduler is not None:
        raise CrystalFourierError("--timeout needs the main thread of a process; Dask runs tasks in threads: "
                                  "drop --timeout or use --workers")
    adapter = models[0]
    book = None if journal is None else Journal(journal, _header(adapter, settings), resume=resume)
    done = _resumed(book, models, settings, labels, crystals)
    if progress is not None and done:
        progress.update(len(done))
    parallel = workers != 1 or scheduler is not None
    model = ("spec", adapter.spec, dtype) if parallel and adapter.spec is not None else models
    todo = [(i, labels[i], crystals[i], _partners(adapter, settings, crystals, i))
            for i in range(len(crystals)) if i not in done]
    job = functools.partial(_audit_chunk, model, settings)
    for results in map_in_order(job, chunked(todo, 1), workers=workers, scheduler=scheduler):
        if book is not None:
            book.append([_record(result) for result in results])
        for result in results:
            done[result.index] = result
        if progress is not None:
            progress.update(len(results))
    if book is not None and not todo:
        book.append([])
    return [done[i] for i in range(len(crystals))]


def _partners(adapter: ModelAdapter, settings: AuditSettings, crystals: list, index: int) -> list:
    """Crystal ``index``'s partners in its ``batch`` batch, drawn here: a worker needs no other crystal."""
    from crystal_fourier.audit._batch import batch_partners
    from crystal_fourier.audit._kinds import KINDS

    if "batch" not in settings.kinds or not adapter.batches:
        return []
    rng = np.random.default_rng([settings.seed, index, KINDS.index("batch"), 0])
    return [crystals[i] for i in batch_partners(len(crystals), index, rng, count=settings.per_kind or 3)]


def _header(adapter: ModelAdapter, settings: AuditSettings) -> str:
    return json.dumps({"format": JOURNAL_FORMAT, "model": adapter.spec or adapter.name, "dtype": str(adapter.dtype),
                       "claim": settings.claim.describe(), "kinds": list(settings.kinds), "seed": settings.seed,
                       "per_kind": settings.per_kind, "symprec": settings.symprec, "max_atoms": settings.max_atoms},
                      sort_keys=True)


def _outputs(outputs: dict) -> dict:
    return {key: np.asarray(value).tolist() for key, value in outputs.items()}


def _record(result: CrystalResult) -> str:
    """One crystal as one JSON line (floats round-trip exactly through their repr)."""
    return json.dumps({
        "index": result.index, "crystal": result.name, "skipped": result.skipped,
        "model_seconds": result.model_seconds,
        "checks": [[c.group, c.kind, c.label, c.quantity, c.error, c.scale, c.tolerance, c.float64_error,
                    c.float64_tolerance, c.detail]
                   for c in result.checks],
        "errors": [[e.kind, e.label, e.message] for e in result.errors],
        "cases": [[kind, label, _outputs(base), _outputs(got)]
                  for (kind, label), (_, base, got) in result.cases.items()],
    }, sort_keys=True)


def _resumed(book, models: tuple, settings: AuditSettings, labels: list[str], crystals: list) -> dict:
    """index -> CrystalResult of every crystal the journal holds (its failed cases drawn again, no model call)."""
    from crystal_fourier.audit._audit import Check, _chosen
    from crystal_fourier.audit._calls import ModelError

    found: dict = {}
    for number, line in enumerate([] if book is None else book.records, start=2):
        try:
            data = json.loads(line)
            index, name = data["index"], data["crystal"]
        except (ValueError, KeyError, TypeError) as error:
            raise CrystalFourierError(
                f"{book.path}: line {number} is not a crystal this audit wrote ({error})") from None
        if not (isinstance(index, int) and 0 <= index < len(labels) and labels[index] == name):
            raise CrystalFourierError(f"{book.path}: line {number} is crystal {name!r} at position {index}, not one "
                                      "of this run's inputs; give the same crystals in the same order, or no --resume")
        checks = tuple(Check(name, *fields) for fields in data["checks"])
        errors = tuple(ModelError(name, *fields) for fields in data["errors"])
        cases = {}
        if data["cases"]:
            drawn = {(d.kind, d.label): d for d in _chosen(
                crystals[index], index, settings.kinds, settings.claim, seed=settings.seed, per_kind=settings.per_kind,
                symprec=settings.symprec, max_atoms=settings.max_atoms)[0]}
            for kind, label, base, got in data["cases"]:
                if (kind, label) in drawn:
                    cases[(kind, label)] = (drawn[(kind, label)], _arrays(base), _arrays(got))
        found[index] = CrystalResult(index, name, checks, errors, data["skipped"], data["model_seconds"], cases)
    return found


def _arrays(outputs: dict) -> dict:
    return {key: np.asarray(value, dtype=np.float64) for key, value in outputs.items()}
