"""Memory and time of reading many structures per input (issue 29): ``iter_structures`` on an extxyz trajectory.

Writes an extended XYZ trajectory of ``--frames`` frames (an ``--atoms``-atom P1 cell, each frame's atoms
moved a little) and reads it in a fresh process per size with :func:`crystal_fourier.runtime.iter_structures`,
loading every frame and letting it go, reporting that process's peak resident memory (``ru_maxrss``) above
the same process before reading. Peak memory should not grow with the number of frames (one frame is held
at a time), and a trajectory larger than MAX_STRUCTURE_FILE_BYTES (128 MiB) is read whole (``--big``).

Time: in one process, the same first ``--single`` frames read as a trajectory and as one-frame files
(``read_structure`` per file), best of ``--repeats``; the ratio is per frame.

    OMP_NUM_THREADS=1 python bench/bench_structure_sources.py --frames 2000 20000 --atoms 8 --single 500
    OMP_NUM_THREADS=1 python bench/bench_structure_sources.py --frames 100 1000 --big --atoms 512 --single 0

Measured (2-core machine shared with other jobs, one thread; peak RSS of the reading process above its
baseline of 29 MiB, after the readers are imported):

    frames  atoms/frame  file MiB  peak RSS above baseline
      2000            8       0.7        1 MiB
     20000            8       7.2        1 MiB
       100          512       1.8        1 MiB
      1000          512      18.4        1 MiB
      6970          512     128.0        1 MiB   (over MAX_STRUCTURE_FILE_BYTES: read whole, frame by frame)

    500 frames of 8 atoms, best of 3: trajectory 1473 us/frame, one-frame files 1948 us/file, ratio 0.76
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEASURE = """
import resource, sys
from crystal_fourier.runtime import iter_structures
import crystal_fourier.runtime.structure_io._cif  # the readers loaded before the baseline is taken
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
frames = atoms = 0
for item in iter_structures(sys.argv[1]):
    atoms += item.load().n_atoms
    frames += 1
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(frames, atoms, before // 1024, (after - before) // 1024)
"""


def _frame(atoms: int, shift: float) -> str:
    side = round(atoms ** (1 / 3)) + 1
    cell = 2.5 * side
    lines = [str(atoms), f'Lattice="{cell} 0 0 0 {cell} 0 0 0 {cell}" Properties=species:S:1:pos:R:3 pbc="T T T"']
    for index in range(atoms):
        x, y, z = index % side, (index // side) % side, index // side // side
        lines.append(f"Cu {2.5 * x + shift:.8f} {2.5 * y + 0.37 * shift:.8f} {2.5 * z - 0.21 * shift:.8f}")
    return "\n".join(lines) + "\n"


def write_trajectory(path: Path, frames: int, atoms: int, *, until_bytes: int = 0) -> int:
    """Write ``frames`` frames (or as many as pass ``until_bytes``); the number written."""
    written = size = 0
    with open(path, "w") as handle:
        while written < frames or size <= until_bytes:
            text = _frame(atoms, 0.001 * (written % 97))
            handle.write(text)
            size += len(text)
            written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--atoms", type=int, default=8)
    parser.add_argument("--single", type=int, default=500, help="frames timed as one-frame files (0: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also a trajectory over 128 MiB")
    args = parser.parse_args()
    from crystal_fourier.runtime import iter_structures, read_structure

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        sizes = [(n, 0) for n in args.frames if n] + ([(0, (128 << 20) + 1)] if args.big else [])
        print("frames  atoms/frame  file MiB  baseline RSS MiB  peak RSS above it MiB  seconds")
        for frames, until in sizes:
            path = folder / "t.extxyz"
            written = write_trajectory(path, frames, args.atoms, until_bytes=until)
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                                 check=True).stdout.split()
            seconds = time.perf_counter() - start
            assert int(out[0]) == written, out
            print(f"{written:>6}  {args.atoms:>11}  {path.stat().st_size / 2**20:>8.1f}  {out[2]:>16}  "
                  f"{out[3]:>21}  {seconds:7.1f}")
            path.unlink()
        if args.single:
            path = folder / "t.extxyz"
            write_trajectory(path, args.single, args.atoms)
            singles = []
            for index in range(args.single):
                singles.append(folder / f"f{index}.extxyz")
                singles[-1].write_text(_frame(args.atoms, 0.001 * (index % 97)))
            framed, alone = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                for item in iter_structures(path):
                    item.load()
                framed.append(time.perf_counter() - start)
                start = time.perf_counter()
                for single in singles:
                    read_structure(single)
                alone.append(time.perf_counter() - start)
            print(f"\n{args.single} frames of {args.atoms} atoms, best of {args.repeats}: trajectory "
                  f"{min(framed) / args.single * 1e6:.0f} us/frame, one-frame files "
                  f"{min(alone) / args.single * 1e6:.0f} us/file, ratio {min(framed) / min(alone):.2f}")


if __name__ == "__main__":
    main()
