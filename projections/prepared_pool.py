"""``PreparedPool``: a few connections in libpq's pipeline mode that run the hottest
reads' statements, prepared, through psycopg's libpq layer (``psycopg.pq``) directly.

Why: a profile read is one indexed row, and psycopg's pool and cursor machinery around it
cost more CPU than the rest of the request (bench B4: 75 µs of the server's ~130 µs per
read; driven directly, 34 µs). On one event loop serving many clients that CPU is the
latency. Why pipelined: with one query per connection at a time, every read paid its own
``send``, two ``epoll`` registrations and a wake-up of its own PostgreSQL backend. Here
reads share a connection: those issued in one turn of the event loop leave in one write,
answers are read as they come by one standing reader, and a few connections serve any
number of concurrent requests.

The connections are still ``psycopg.AsyncConnection``s (connected, configured and closed
by psycopg), and rows are loaded by psycopg's own ``Transformer`` with the connection's
loaders, so a value reads exactly as through a cursor; only the cursor's send/receive
machinery is skipped. Each query is followed by its own sync point, so one failing
statement fails only its own read. A read cancelled mid-query (its client went away)
leaves its answer to be dropped when it comes. A connection that fails fails the reads
waiting on it and is replaced on a later request. A statement's failure is raised as
psycopg's class for its SQLSTATE, as through a cursor; a lost or refused connection, or a
closed pool, as ``psycopg.OperationalError``, which the API answers from its ordinary
routes (503 ``database_unavailable``).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import select
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer

Configure = Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]
Rows = list[tuple[Any, ...]]
_Prepared = tuple[bytes, int]  # a prepared statement's name, and how many parameters it takes
_PLACEHOLDER = re.compile(r"%(.)?", re.DOTALL)
MAX_PARAMS = 65535  # the protocol's limit: libpq refuses to send more, and the connection with it
_OK = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
RETRY_SECONDS = 1.0  # after a connection could not be opened, reads queue on the open ones this long


class PreparedPool:
    """Up to ``size`` pipelined connections, opened as needed (``configure`` runs on each
    new one). ``query(sql, params)`` runs a psycopg-style statement (``%s`` placeholders,
    ``%%`` for a percent sign; values sent as text), prepared on each connection the first
    time, and returns its rows as tuples of Python values. A read goes to an idle
    connection, else to the one with the fewest reads in flight, while another is opened
    beside it when there is room; it waits for a connection to open only when none is
    open."""

    def __init__(self, url: str, size: int, configure: Configure) -> None:
        self.url = url
        self.size = size
        self.configure = configure
        self._conns: list[_Pipeline] = []
        self._opening: set[asyncio.Task[_Pipeline]] = set()
        self._retry_at = 0.0  # no background opening before then (the last one failed)
        self._closed = False

    async def open(self) -> None:
        """Open one connection now, so a database that does not answer shows at start."""
        await self._pick()

    async def query(self, sql: str, params: Sequence[Any]) -> Rows:
        return await (await self._pick()).query(sql, params)

    async def close(self) -> None:
        self._closed = True
        for task in self._opening:
            task.cancel()
        conns, self._conns = self._conns, []
        for conn in conns:
            await conn.close()

    async def _pick(self) -> _Pipeline:
        while True:
            if self._closed:
                raise psycopg.OperationalError("the pool is closed")
            if any(c.failed for c in self._conns):
                self._conns = [c for c in self._conns if not c.failed]
            least = min(self._conns, key=_in_flight, default=None)
            room = len(self._conns) + len(self._opening) < self.size
            if least is not None:
                if least.in_flight and room and time.monotonic() >= self._retry_at:
                    # In the background: this read queues on `least` meanwhile, and a
                    # connection the server refuses fails no read an open one can serve.
                    self._start_opening()
                return least
            # None open: this read needs one (one being opened already, if no room).
            task = self._start_opening() if room else next(iter(self._opening))
            await asyncio.wait((task,))  # not shield(): a close() cancelling it is no cancel of ours
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error  # why it could not connect

    def _start_opening(self) -> asyncio.Task[_Pipeline]:
        task = asyncio.ensure_future(_Pipeline.open(self.url, self.configure))
        self._opening.add(task)
        task.add_done_callback(self._opened)  # even when the request that asked went away
        return task

    def _opened(self, task: asyncio.Task[_Pipeline]) -> None:
        self._opening.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return
        conn = task.result()
        if self._closed:
            conn.fail(psycopg.OperationalError("the pool is closed"))
        else:
            self._conns.append(conn)


def _in_flight(conn: _Pipeline) -> int:
    return conn.in_flight


class _Pipeline:
    """One connection in pipeline mode: requests queue in order, one standing reader
    hands each answer to the request at the head of the queue."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self.pgconn: pq.abc.PGconn = conn.pgconn
        self.rows = Transformer(conn)
        self._encoding = conn.info.encoding
        # statement → its name on this connection and how many parameters it takes
        self.prepared: dict[str, _Prepared] = {}
        self._preparing: dict[str, asyncio.Future[_Prepared]] = {}
        self._names = itertools.count()
        # One entry per query sent: the future awaiting its rows (or a prepared statement).
        self._waiting: deque[tuple[asyncio.Future[Any], Callable[[pq.abc.PGresult], Any]]] = deque()
        self._answer: list[pq.abc.PGresult] = []  # the head query's results so far
        self._ended = False  # the head query's results are complete; its sync point is next
        self._flush_due = False
        self._writing = False
        self.failed: Exception | None = None
        self._loop = asyncio.get_running_loop()
        self._socket = self.pgconn.socket
        self._more = select.poll()  # is there still something to read? (see ``_read``)
        self._more.register(self._socket, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        self.pgconn.enter_pipeline_mode()
        self._loop.add_reader(self._socket, self._read)

    @classmethod
    async def open(cls, url: str, configure: Configure) -> _Pipeline:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        try:
            await configure(conn)
            return cls(conn)
        except BaseException:
            await conn.close()
            raise

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    async def query(self, sql: str, params: Sequence[Any]) -> Rows:
        name, count = self.prepared.get(sql) or await self._prepare(sql)
        if len(params) != count:  # as a cursor refuses it, before anything is sent
            raise psycopg.ProgrammingError(f"the query has {count} placeholders but {len(params)} parameters were passed")
        return await self._send(self.pgconn.send_query_prepared, (name, [_text(p) for p in params]), self._load)

    async def _prepare(self, sql: str) -> _Prepared:
        """The statement's name (and parameter count) once PostgreSQL has prepared it (concurrent first uses
        share one preparation; a failed one is tried again by the next read)."""
        preparing = self._preparing.get(sql)
        if preparing is None:
            text, count = numbered(sql)
            name = f"hot{next(self._names)}".encode()
            preparing = self._preparing[sql] = self._send(self.pgconn.send_prepare, (name, text),
                                                          lambda _: (name, count))
            preparing.add_done_callback(lambda done: self._prepared(sql, done))
        return await asyncio.shield(preparing)

    def _prepared(self, sql: str, done: asyncio.Future[_Prepared]) -> None:
        del self._preparing[sql]
        if not done.cancelled() and done.exception() is None:
            self.prepared[sql] = done.result()

    def _send(self, send: Callable[..., None], args: tuple[Any, ...],
              answer: Callable[[pq.abc.PGresult], Any]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self._loop.create_future()
        try:
            if self.failed is not None:
                raise self.failed
            send(*args)
            self.pgconn.pipeline_sync()  # its own sync point: an error aborts this query only
        except psycopg.Error as exc:
            self.fail(exc)
            future.set_exception(psycopg.OperationalError(str(exc)))
            return future
        self._waiting.append((future, answer))
        if not self._flush_due:  # one write for all the reads of this turn of the loop
            self._flush_due = True
            self._loop.call_soon(self._flush)
        return future

    def _load(self, result: pq.abc.PGresult) -> Rows:
        self.rows.set_pgresult(result)
        return self.rows.load_rows(0, result.ntuples, tuple)  # type: ignore[no-any-return]

    def _flush(self) -> None:
        if self.failed is not None:
            return
        try:
            unsent = self.pgconn.flush()
        except psycopg.Error as exc:
            self.fail(exc)
            return
        if unsent and not self._writing:
            self._writing = True
            self._loop.add_writer(self._socket, self._flush)
        elif not unsent:
            self._flush_due = False
            if self._writing:
                self._writing = False
                self._loop.remove_writer(self._socket)
        if self._waiting and not self.pgconn.is_busy():
            # libpq reads while a write would block (or while sending a full buffer), so an
            # answer may already sit in its buffer with no readable socket left to say so.
            self._read()

    def _read(self) -> None:
        """Called whenever the socket has data: hand out every complete answer, reading
        until the socket has nothing more. One call must be enough: on an error event (a
        reset, when the backend died with requests of ours unread) uvloop calls a reader
        once and then drops it, and one ``consume_input`` may not reach the error."""
        pgconn = self.pgconn
        try:
            while True:
                pgconn.consume_input()
                self._hand_out()
                if pgconn.status != pq.ConnStatus.OK:
                    raise psycopg.OperationalError(pgconn.get_error_message() or "the connection was lost")
                if not self._more.poll(0):
                    return
        except psycopg.Error as exc:
            self.fail(exc)

    def _hand_out(self) -> None:
        """Every complete answer libpq has read so far, to its request."""
        pgconn = self.pgconn
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                if not self._answer or self._ended:
                    return  # nothing more has arrived
                self._ended = True
            elif result.status == pq.ExecStatus.PIPELINE_SYNC:
                self._answer_head()
            else:
                self._answer.append(result)

    def _answer_head(self) -> None:
        results, self._answer, self._ended = self._answer, [], False
        if not self._waiting:
            raise psycopg.OperationalError("an answer to no request")
        future, answer = self._waiting.popleft()
        if future.done():  # cancelled: its request went away
            return
        refused = next((r for r in results if r.status not in _OK), None)
        try:
            if refused is not None:
                raise self._error(refused)
            if not results:
                raise psycopg.OperationalError("no result")
            future.set_result(answer(results[0]))
        except Exception as exc:  # a value its loader refused, too: this request's failure only
            future.set_exception(exc)

    def _error(self, result: pq.abc.PGresult) -> psycopg.Error:
        """psycopg's error for a failed result, as a cursor raises it (``UndefinedTable``,
        ``DivisionByZero``, ``AdminShutdown`` …), so a broken statement is a 500, not a
        503. One without an SQLSTATE is libpq's own, about the connection."""
        if result.status == pq.ExecStatus.FATAL_ERROR and result.error_field(pq.DiagnosticField.SQLSTATE):
            return psycopg.errors.error_from_result(result, self._encoding)
        return psycopg.OperationalError(result.get_error_message(self._encoding) or "aborted")

    def fail(self, exc: Exception) -> None:
        """Give up the connection: every request waiting on it gets ``exc``."""
        if self.failed is not None:
            return
        self.failed = exc if isinstance(exc, psycopg.OperationalError) else psycopg.OperationalError(str(exc))
        self._loop.remove_reader(self._socket)
        if self._writing:
            self._loop.remove_writer(self._socket)
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():  # one exception each: a shared one would grow one traceback for all
                future.set_exception(psycopg.OperationalError(str(self.failed)))
        self.pgconn.finish()

    async def close(self) -> None:
        self.fail(psycopg.OperationalError("the pool is closed"))
        await self.conn.close()


def numbered(sql: str) -> tuple[bytes, int]:
    """A psycopg-style statement in PostgreSQL's form, and how many parameters it takes:
    ``%s`` becomes ``$1``, ``$2`` …, ``%%`` a literal ``%``, as psycopg reads them."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match[1] == "%":
            return "%"
        if match[1] != "s":
            raise psycopg.ProgrammingError(f"only '%s' and '%%' placeholders are supported, got {match[0]!r}")
        count += 1
        return f"${count}"

    text = _PLACEHOLDER.sub(replace, sql).encode()
    if count > MAX_PARAMS:
        raise psycopg.ProgrammingError(f"a statement takes at most {MAX_PARAMS} parameters, this one {count}")
    return text, count


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text form (the server casts it to the column's type)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):  # an array, for ``= ANY($1)``
        quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in value)
        return ("{" + ",".join(f'"{v}"' for v in quoted) + "}").encode()
    return str(value).encode()
