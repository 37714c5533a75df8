"""An output file of whole lines, appended chunk by chunk, that a later run can resume.

``predict --out FILE`` (CSV rows) and ``audit`` (OUT/checks.jsonl, one JSON line per crystal) write
their results through a :class:`Journal`: a header line that names the run, then one record per
line, in input order. Each chunk's records are appended with one ``write`` and flushed to disk
(``fsync``) before the next chunk is computed, so a run that is killed loses at most the chunk it
was writing. A resumed run keeps every complete line, cuts a torn last line, and checks that the
header is the one it would write (same columns, same options): records of another run are never
mixed in.
"""

from __future__ import annotations

import os
from pathlib import Path

from crystal_fourier.errors import CrystalFourierError

__all__ = ["Journal"]


class Journal:
    """A header line and records, one per line, written whole and resumable.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Without ``resume`` it is replaced (atomically) at the first :meth:`append`, header
        included: a run that fails before it writes nothing.
    header : str
        The first line (no newline): what the records mean and the options that made them.
    resume : bool, default False
        Keep the records already in ``path`` (a torn last line is cut); a missing file starts afresh.

    Attributes
    ----------
    records : list of str
        The complete lines found on resume (without newlines); empty for a fresh file.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "rows.csv"
    >>> Journal(path, "name,value").append(["a,1", "b,2"])
    >>> Journal(path, "name,value", resume=True).records
    ['a,1', 'b,2']
    """

    def __init__(self, path: "str | os.PathLike[str]", header: str, *, resume: bool = False) -> None:
        if "\n" in header:
            raise CrystalFourierError("a journal header is one line")
        self.path = Path(path)
        self.records: list[str] = []
        if resume and self.path.exists():
            data = self.path.read_bytes()
            complete = data[:data.rfind(b"\n") + 1]   # a line without its newline was torn by a kill
            try:
                lines = complete.decode("utf-8").split("\n")[:-1]
            except UnicodeDecodeError as error:
                raise CrystalFourierError(f"{self.path}: cannot resume, not a UTF-8 file this command wrote") from error
            if not lines or lines[0] != header:
                difference = _difference(lines[0] if lines else None, header)
                raise CrystalFourierError(f"{self.path}: cannot resume: {difference}"
                                          "; give the same options and inputs, or drop --resume")
            self.records = lines[1:]
            if len(complete) != len(data):
                os.truncate(self.path, len(complete))
            self._header = None
        else:
            self._header = header  # written with the first chunk: a run that fails before it leaves no file

    def append(self, records: "list[str]") -> None:
        """Append ``records`` (one line each, no newlines inside) with one write, flushed to disk.

        The first call on a fresh journal writes the file atomically (header and records), even with no records.

        Parameters
        ----------
        records : list of str
            The lines of one chunk.
        """
        from crystal_fourier._atomic import atomic_write_text

        if any("\n" in record for record in records):
            raise CrystalFourierError("a journal record is one line")
        text = "".join(record + "\n" for record in records)
        if self._header is not None:  # the first chunk of a fresh file replaces it whole, header included
            atomic_write_text(self.path, self._header + "\n" + text)
            self._header = None
            return
        if not text:
            return
        data = text.encode("utf-8")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _difference(found: "str | None", header: str) -> str:
    """Where the file's header departs from this run's, in a few words (the common start left out)."""
    if found is None:
        return "the file is empty"
    pairs = enumerate(zip(found, header, strict=False))
    start = next((i for i, (a, b) in pairs if a != b), min(len(found), len(header)))
    start = max(0, start - 20)
    return f"it was written with ...{found[start:start + 70]!r}..., this run has ...{header[start:start + 70]!r}..."
