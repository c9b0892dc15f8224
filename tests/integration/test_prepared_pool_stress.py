"""``PreparedPool`` under stress, on asyncio's own loop and on uvloop (production's): many
concurrent reads with cancellations and failing statements, large answers that fill
libpq's buffers, concurrent first preparations (a failing one included), a session
terminated with reads in flight, and a pool closed under load. Every read must get its
own answer or a clear error (its statement's own, or ``psycopg.OperationalError`` for a
lost connection), promptly; nothing may escape into the event loop, and nothing
(sessions, reader/writer registrations) may be left behind."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
import uvloop

from projections.prepared_pool import PreparedPool
from tests.integration.prepared_pools import named_pool, sessions

LOOPS = ["asyncio", "uvloop"]


def _no_sessions_left(database_url: str, name: str) -> list[int]:
    """The pool's sessions still on the server after a short grace (a terminated or closed
    backend may take a moment to leave ``pg_stat_activity``)."""
    deadline = time.monotonic() + 3
    while (left := sessions(database_url, name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _terminate(database_url: str, pid: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def _after_a_failure(query: Callable[[], Awaitable[Any]]) -> Any:
    """A read's answer once the pool has noticed a lost session: the first read after it
    may still be handed the old connection and fail, the next one must answer."""
    try:
        return await asyncio.wait_for(query(), timeout=2)
    except psycopg.OperationalError:
        return await asyncio.wait_for(query(), timeout=2)


def _run(kind: str, main: Callable[[], Awaitable[Any]]) -> Any:
    """``main()`` on a fresh loop of that kind; fails if anything reached the loop's
    exception handler (a callback that raised, a future's exception never retrieved) or,
    on asyncio's loop, if a reader or writer is still registered when ``main`` returns."""
    escaped: list[dict[str, Any]] = []
    leftover: list[Any] = []

    async def watched() -> Any:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: escaped.append(context))
        selector = getattr(loop, "_selector", None)
        before = set(selector.get_map()) if selector is not None else set()
        result = await main()
        await asyncio.sleep(0.05)  # let done callbacks run
        if selector is not None:
            leftover.extend(set(selector.get_map()) - before)
        return result

    factory = uvloop.new_event_loop if kind == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(watched())
    gc.collect()  # "exception never retrieved" is reported when a future is collected
    assert escaped == [], escaped
    assert leftover == [], f"registrations left on the loop: {leftover}"
    return result


# -- many concurrent reads --------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOPS)
def test_hundreds_of_reads_with_cancellations_and_failures_each_get_their_own_answer(database_url, kind):
    """400 reads on 2 connections over several turns of the loop: echoes, divisions by
    zero, 100 kB answers; a quarter cancelled at random moments. A read that was not
    cancelled gets exactly its own answer."""
    pool = named_pool(database_url, size=2)
    rng = random.Random(1234)

    def statement(n: int) -> tuple[str, tuple, Any]:
        kind_of = n % 4
        if kind_of == 0:
            return "SELECT %s::int, %s::text", (n, f"t{n}"), [(n, f"t{n}")]
        if kind_of == 1:
            d = n % 7 - 3  # zero for some: division by zero, this read's failure only
            return "SELECT %s::int / %s::int", (n, d), (None if d == 0 else [(int(n / d),)])
        if kind_of == 2:
            return "SELECT %s::int, repeat(%s, 100000)", (n, chr(97 + n % 26)), [(n, chr(97 + n % 26) * 100000)]
        return "SELECT %s::int + g FROM generate_series(1, 50) g", (n,), [(n + g,) for g in range(1, 51)]

    async def main() -> tuple[list, list]:
        await pool.open()
        try:
            async def read(n: int) -> Any:
                await asyncio.sleep(rng.choice([0, 0, 0, 0.001, 0.005]))
                sql, params, _ = statement(n)
                return await pool.query(sql, params)

            tasks = [asyncio.ensure_future(read(n)) for n in range(400)]
            cancelled = rng.sample(range(400), 100)

            async def cancel_some() -> None:
                for n in cancelled:
                    await asyncio.sleep(rng.choice([0, 0, 0.0005, 0.002]))
                    tasks[n].cancel()

            await cancel_some()
            answers = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=8)
            after = await asyncio.wait_for(pool.query("SELECT %s::text", ("after",)), timeout=2)
            return answers, after
        finally:
            await pool.close()

    answers, after = _run(kind, main)
    assert after == [("after",)]
    for n, answer in enumerate(answers):
        if isinstance(answer, asyncio.CancelledError):
            continue
        expected = statement(n)[2]
        if expected is None:
            assert isinstance(answer, psycopg.errors.DivisionByZero), (n, answer)
        else:
            assert answer == expected, n
    assert _no_sessions_left(database_url, pool.application_name) == []


# -- large answers and large parameters ---------------------------------------------------


@pytest.mark.parametrize("kind", LOOPS)
def test_large_answers_mixed_with_small_ones_on_one_connection(database_url, kind):
    """50 000-row and 200 kB answers between one-row ones, and 300 kB parameters going
    out while big answers come back: libpq's buffers fill both ways, reads and writes are
    partial, and every read still gets its own answer."""
    pool = named_pool(database_url, size=1)
    big_param = "p" * 300_000

    async def main() -> list:
        await pool.open()
        try:
            reads = []
            for n in range(30):
                reads.append(pool.query("SELECT %s::int", (n,)))
                if n % 3 == 0:
                    reads.append(pool.query("SELECT g, %s::int FROM generate_series(1, 50000) g", (n,)))
                if n % 3 == 1:
                    reads.append(pool.query("SELECT repeat('x', 200000), %s::int", (n,)))
                if n % 3 == 2:
                    reads.append(pool.query("SELECT length(%s::text), %s::int", (big_param + str(n), n)))
            return await asyncio.wait_for(asyncio.gather(*reads), timeout=8)
        finally:
            await pool.close()

    answers = iter(_run(kind, main))
    for n in range(30):
        assert next(answers) == [(n,)]
        if n % 3 == 0:
            assert next(answers) == [(g, n) for g in range(1, 50001)]
        if n % 3 == 1:
            assert next(answers) == [("x" * 200000, n)]
        if n % 3 == 2:
            assert next(answers) == [(300_000 + len(str(n)), n)]


@pytest.mark.parametrize("kind", LOOPS)
def test_parameters_too_big_to_send_at_once_wait_for_the_socket(database_url, kind):
    """Twenty 2 MB parameters queued behind a sleeping statement (the backend reads none
    of them meanwhile): the send buffer fills, the rest goes out as the socket allows, and
    every read gets its own answer."""
    pool = named_pool(database_url, size=1)
    big = "p" * 2_000_000

    async def main() -> list:
        await pool.open()
        try:
            reads = [pool.query("SELECT pg_sleep(0.3)", ())]
            for n in range(20):
                reads.append(pool.query("SELECT length(%s::text), %s::int, repeat('y', 300000)", (big, n)))
                reads.append(pool.query("SELECT %s::int", (n,)))
            return (await asyncio.wait_for(asyncio.gather(*reads), timeout=8))[1:]
        finally:
            await pool.close()

    assert _run(kind, main) == [a for n in range(20) for a in ([(2_000_000, n, "y" * 300000)], [(n,)])]


# -- preparation ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOPS)
def test_many_statements_prepared_concurrently_on_a_freshnamed_pool(database_url, kind):
    """40 distinct statements, each asked for 5 times at once on a fresh pool (so the
    reads share each connection's preparation), and one statement whose PREPARE fails
    while 10 reads wait on it: those 10 get the error, the others their answers."""
    pool = named_pool(database_url, size=2)

    async def main() -> tuple[list, list]:
        try:
            good = [pool.query(f"SELECT %s::int + {s}", (r,)) for s in range(40) for r in range(5)]
            bad = [pool.query("SELECT %s::int FROM no_such_table_here", (r,)) for r in range(10)]
            together = asyncio.gather(*good, *bad, return_exceptions=True)
            answers = await asyncio.wait_for(together, timeout=8)
            return answers[:200], answers[200:]
        finally:
            await pool.close()

    good, bad = _run(kind, main)
    assert good == [[(r + s,)] for s in range(40) for r in range(5)]
    for answer in bad:
        assert isinstance(answer, psycopg.errors.UndefinedTable) and "no_such_table_here" in str(answer), answer


@pytest.mark.parametrize("kind", LOOPS)
def test_a_failed_preparation_is_tried_again(database_url, schema, kind):
    """A statement whose PREPARE failed (its table did not exist yet) prepares and answers
    on a later read."""
    pool = named_pool(database_url, size=1)
    statement = f'SELECT v FROM "{schema}".later WHERE k = %s'

    async def main() -> list:
        await pool.open()
        try:
            with pytest.raises(psycopg.errors.UndefinedTable, match="later"):
                await asyncio.wait_for(pool.query(statement, (1,)), timeout=2)
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f'CREATE TABLE "{schema}".later (k int, v text)')
                conn.execute(f"INSERT INTO \"{schema}\".later VALUES (1, 'one')")
            return await asyncio.wait_for(pool.query(statement, (1,)), timeout=2)
        finally:
            await pool.close()

    assert _run(kind, main) == [("one",)]


@pytest.mark.parametrize("kind", LOOPS)
def test_a_read_cancelled_while_its_statement_prepares_leaves_the_preparation_to_others(database_url, kind):
    """The first read of a statement is cancelled while its PREPARE is in flight; the
    reads waiting on the same preparation still get their answers, and the statement
    stays prepared."""
    pool = named_pool(database_url, size=1)

    async def main() -> list:
        await pool.open()
        try:
            slow = pool.query("SELECT pg_sleep(0.2)", ())  # holds the connection so the PREPARE waits
            first = asyncio.ensure_future(pool.query("SELECT %s::int * 2", (1,)))
            others = [asyncio.ensure_future(pool.query("SELECT %s::int * 2", (n,))) for n in range(2, 6)]
            await asyncio.sleep(0.05)
            first.cancel()
            answers = await asyncio.wait_for(asyncio.gather(slow, *others), timeout=3)
            again = await asyncio.wait_for(pool.query("SELECT %s::int * 2", (10,)), timeout=2)
            return [*answers[1:], again]
        finally:
            await pool.close()

    assert _run(kind, main) == [[(4,)], [(6,)], [(8,)], [(10,)], [(20,)]]


# -- a session that goes away -----------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOPS)
def test_a_terminated_session_fails_its_50_reads_promptly_and_is_replaced(database_url, kind):
    """50 reads in flight on one connection when its backend is terminated: every one of
    them gets OperationalError within a second, and the pool answers later reads on a new
    session (repeatedly: the new socket may reuse the old one's descriptor)."""
    pool = named_pool(database_url, size=1)

    async def main() -> tuple[list, list, list]:
        await pool.open()
        try:
            pids, times = [], []
            for _ in range(3):
                pid = (await pool.query("SELECT pg_backend_pid()", ()))[0][0]
                pids.append(pid)
                reads = [asyncio.ensure_future(pool.query("SELECT %s::int FROM pg_sleep(0.05)", (n,)))
                         for n in range(50)]
                await asyncio.sleep(0.1)  # the first one or two answered, the rest in flight
                started = time.monotonic()
                await asyncio.to_thread(_terminate, database_url, pid)
                answers = await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), timeout=3)
                times.append(time.monotonic() - started)
                failed = [a for a in answers if not isinstance(a, list)]
                assert failed, "none of the reads saw the session go"
                for n, a in enumerate(answers):
                    assert a == [(n,)] or isinstance(a, psycopg.OperationalError), (n, a)
                await _after_a_failure(lambda: pool.query("SELECT 1", ()))
            final = await asyncio.wait_for(pool.query("SELECT pg_backend_pid()", ()), timeout=2)
            return pids, times, final
        finally:
            await pool.close()

    pids, times, final = _run(kind, main)
    assert len(set(pids + [final[0][0]])) == 4, pids
    assert max(times) < 1.5, times
    assert _no_sessions_left(database_url, pool.application_name) == []


@pytest.mark.parametrize("kind", LOOPS)
def test_a_session_terminated_while_idle_is_replaced_without_hanging(database_url, kind):
    """A backend terminated between reads (the pool's reader sees it go on its own): the
    next reads, many at once, all answer or fail fast, and the one after answers."""
    pool = named_pool(database_url, size=2)

    async def main() -> list:
        await pool.open()
        try:
            await asyncio.gather(*(pool.query("SELECT pg_sleep(0.02)", ()) for _ in range(4)))  # both open
            for pid in sessions(database_url, pool.application_name):
                await asyncio.to_thread(_terminate, database_url, pid)
            await asyncio.sleep(0.2)
            reads = [pool.query("SELECT %s::int", (n,)) for n in range(20)]
            answers = await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), timeout=3)
            for n, a in enumerate(answers):
                assert a == [(n,)] or isinstance(a, psycopg.OperationalError), (n, a)
            return await asyncio.wait_for(pool.query("SELECT %s::text", ("back",)), timeout=2)
        finally:
            await pool.close()

    assert _run(kind, main) == [("back",)]


@pytest.mark.parametrize("kind", LOOPS)
def test_a_session_terminated_while_statements_prepare_fails_the_waiting_reads(database_url, kind):
    """The backend goes while a PREPARE (with 10 reads waiting on it) is queued behind a
    slow read: all of them fail promptly, and the statement prepares again on the new
    session."""
    pool = named_pool(database_url, size=1)

    async def main() -> tuple[list, list]:
        await pool.open()
        try:
            pid = (await pool.query("SELECT pg_backend_pid()", ()))[0][0]
            slow = asyncio.ensure_future(pool.query("SELECT pg_sleep(2)", ()))
            waiting = [asyncio.ensure_future(pool.query("SELECT %s::int * 3", (n,))) for n in range(10)]
            await asyncio.sleep(0.1)
            await asyncio.to_thread(_terminate, database_url, pid)
            answers = await asyncio.wait_for(asyncio.gather(slow, *waiting, return_exceptions=True), timeout=1)
            again = await _after_a_failure(lambda: pool.query("SELECT %s::int * 3", (5,)))
            return answers, again
        finally:
            await pool.close()

    answers, again = _run(kind, main)
    assert all(isinstance(a, psycopg.OperationalError) for a in answers), answers
    assert again == [(15,)]


@pytest.mark.parametrize("kind", LOOPS)
def test_a_session_terminated_mid_answer_fails_the_reads_promptly(database_url, kind):
    """The backend goes while a 100 MB answer streams in, with more of it waiting in the
    socket than one read of libpq takes, and with reads queued behind it that the backend
    never read (so its socket closes with a reset): they all fail promptly, and the pool
    answers afterwards."""
    pool = named_pool(database_url, size=1)

    async def main() -> tuple[list, list]:
        await pool.open()
        try:
            pid = (await pool.query("SELECT pg_backend_pid()", ()))[0][0]
            huge = asyncio.ensure_future(pool.query("SELECT repeat('z', 1000) FROM generate_series(1, 100000)", ()))
            await asyncio.sleep(0.02)  # the backend is sending; it reads nothing more until done
            small = [asyncio.ensure_future(pool.query("SELECT %s::int", (n,))) for n in range(20)]
            await asyncio.sleep(0.01)
            time.sleep(0.2)  # the loop held up: the answer piles up in the socket
            _terminate(database_url, pid)
            time.sleep(0.1)
            answers = await asyncio.wait_for(asyncio.gather(huge, *small, return_exceptions=True), timeout=3)
            after = await _after_a_failure(lambda: pool.query("SELECT %s::text", ("after",)))
            return answers, after
        finally:
            await pool.close()

    answers, after = _run(kind, main)
    assert after == [("after",)]
    assert isinstance(answers[0], psycopg.OperationalError) or len(answers[0]) == 100000
    for n, a in enumerate(answers[1:]):
        assert a == [(n,)] or isinstance(a, psycopg.OperationalError), (n, a)


@pytest.mark.parametrize("kind", LOOPS)
def test_a_connection_that_cannot_be_opened_does_not_fail_reads_a_healthy_one_can_serve(database_url, kind):
    """Size 2, one healthy connection busy, and a second that cannot be opened (the server
    refuses it, simulated in ``configure``): reads must still be served by the healthy
    connection rather than fail with the refusal."""
    opened = 0

    async def configure(conn: psycopg.AsyncConnection) -> None:
        nonlocal opened
        opened += 1
        if opened > 1:
            raise psycopg.OperationalError("FATAL: sorry, too many clients already (simulated)")

    pool = PreparedPool(database_url, 2, configure)

    async def main() -> list:
        await pool.open()
        try:
            busy = asyncio.ensure_future(pool.query("SELECT pg_sleep(0.1)", ()))
            await asyncio.sleep(0.01)
            reads = [pool.query("SELECT %s::int", (n,)) for n in range(3)]
            answers = await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), timeout=3)
            await busy
            return answers
        finally:
            await pool.close()

    assert _run(kind, main) == [[(0,)], [(1,)], [(2,)]]


# -- closing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOPS)
def test_closing_the_pool_fails_the_reads_in_flight(database_url, kind):
    """100 reads in flight on 2 connections (some still preparing) when the pool is
    closed: each is answered or fails with OperationalError, at once; later reads fail
    the same way; no session is left."""
    pool = named_pool(database_url, size=2)

    async def main() -> tuple[list, float]:
        await pool.open()
        reads = [asyncio.ensure_future(pool.query(f"SELECT %s::int FROM pg_sleep(0.02) -- {n % 10}", (n,)))
                 for n in range(100)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await asyncio.wait_for(pool.close(), timeout=2)
        answers = await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), timeout=2)
        took = time.monotonic() - started
        with pytest.raises(psycopg.OperationalError, match="closed"):
            await pool.query("SELECT 1", ())
        return answers, took

    answers, took = _run(kind, main)
    assert took < 1, took
    for n, a in enumerate(answers):
        assert a == [(n,)] or isinstance(a, psycopg.OperationalError), (n, a)
    assert any(isinstance(a, psycopg.OperationalError) for a in answers)
    assert _no_sessions_left(database_url, pool.application_name) == []


@pytest.mark.parametrize("kind", LOOPS)
def test_closing_the_pool_while_its_first_connection_opens_fails_the_waiting_reads(database_url, kind):
    """Reads that wait for the pool's first connection when the pool is closed fail with
    OperationalError ("the pool is closed"), as reads after close do; they are not
    themselves cancelled."""
    pool = named_pool(database_url, size=2)

    async def main() -> list:
        reads = [asyncio.ensure_future(pool.query("SELECT %s::int", (n,))) for n in range(5)]
        await asyncio.sleep(0)  # they wait for the connection being opened
        await pool.close()
        return await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), timeout=3)

    answers = _run(kind, main)
    for a in answers:
        assert isinstance(a, psycopg.OperationalError), repr(a)
