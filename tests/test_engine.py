"""The engine that maps work over chunks: in process, in local workers, on Dask; results in input order."""

from __future__ import annotations

import pytest

from crystal_fourier import _engine
from crystal_fourier._engine import check_engine_options, chunked, map_in_order
from crystal_fourier.errors import CrystalFourierError, WorkerLost

# Work that a spawned worker can unpickle without this test module (imported by file path, not by name):
# ``eval`` of a text chunk. KILL ends the worker process that evaluates it, as the OOM killer would.
KILL = "__import__('os').kill(__import__('os').getpid(), 9)"


def test_chunks_are_consecutive_and_lazy():
    pulled = []

    def items():
        for i in range(7):
            pulled.append(i)
            yield i

    chunks = chunked(items(), 3)
    assert next(chunks) == [0, 1, 2]
    assert pulled == [0, 1, 2]
    assert list(chunks) == [[3, 4, 5], [6]]
    with pytest.raises(CrystalFourierError, match="at least 1"):
        list(chunked([1], 0))


def test_in_process_yields_each_result_before_reading_the_next_chunk():
    seen = []

    def chunks():
        for chunk in ([1, 2], [3], [4, 5, 6]):
            seen.append(chunk)
            yield chunk

    results = map_in_order(sum, chunks())
    assert next(results) == 3
    assert len(seen) == 1
    assert list(results) == [3, 15]


@pytest.mark.parametrize(("workers", "scheduler", "message"), [
    (0, None, "positive integer"), (-1, None, "positive integer"), (True, None, "positive integer"),
    (2, "tcp://h:1", "not both"), (1, " ", "needs an address")])
def test_bad_options_are_refused_before_any_work(workers, scheduler, message):
    with pytest.raises(CrystalFourierError, match=message):
        check_engine_options(workers, scheduler)
    with pytest.raises(CrystalFourierError, match=message):
        next(map_in_order(sum, [[1]], workers=workers, scheduler=scheduler))


def test_two_workers_give_the_results_in_input_order():
    # the first chunk is the slowest: results still come back in input order
    chunks = ["sum(range(3_000_000)) and 'a'", "'b'", "'c'", "'d'", "'e'"]
    assert list(map_in_order(eval, chunks, workers=2)) == ["a", "b", "c", "d", "e"]


def test_a_killed_worker_ends_the_map_with_worker_lost_after_the_finished_chunks():
    results = map_in_order(eval, ["1", "2", KILL, "4", "5", "6"], workers=2, window=2)
    assert [next(results), next(results)] == [1, 2]
    with pytest.raises(WorkerLost, match="died .* chunk 3; the 2 chunks before it are complete; .*--resume"):
        next(results)
    assert _engine.EXIT_WORKER_LOST == 4


def test_a_pool_broken_before_the_next_submit_is_worker_lost_too(monkeypatch):
    """A worker that dies while the window is refilled: the pool already knows, so ``submit`` itself raises
    BrokenProcessPool (the race that made the test above fail now and then); it is the same WorkerLost."""
    import concurrent.futures
    from concurrent.futures.process import BrokenProcessPool

    class BreaksOnTheThirdSubmit:   # a pool whose worker died while chunks 1 and 2 were being handed out
        def __init__(self, **options):
            self.submitted = 0

        def submit(self, function, chunk):
            self.submitted += 1
            if self.submitted == 3:
                raise BrokenProcessPool("A child process terminated abruptly")
            future = concurrent.futures.Future()
            future.set_result(function(chunk))
            return future

        def shutdown(self, wait=True, cancel_futures=False):
            pass

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", BreaksOnTheThirdSubmit)
    results = map_in_order(eval, ["1", "2", "3", "4"], workers=2, window=1)
    assert [next(results), next(results)] == [1, 2]
    with pytest.raises(WorkerLost, match="died .* chunk 3; the 2 chunks before it are complete; .*--resume"):
        next(results)


def test_a_chunk_that_cannot_be_pickled_is_one_clear_error():
    with pytest.raises(CrystalFourierError, match="cannot send the work to worker processes"):
        list(map_in_order(eval, ["1", lambda: 2], workers=2))


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(_engine, "CONNECT_SECONDS", 0.5)
    with pytest.raises(CrystalFourierError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 0.5 s"):
        next(map_in_order(sum, [[1]], scheduler="tcp://127.0.0.1:9"))


def test_a_dask_local_cluster_gives_the_results_in_order():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        chunks = [[i, i] for i in range(9)] + [[0, 0]]  # equal chunks are separate tasks (pure=False)
        assert list(map_in_order(sum, chunks, scheduler=cluster.scheduler_address, window=3)) == [
            *range(0, 18, 2), 0]
