"""Reading and validating an extract ahead of the store, in chunks.

The store's work is mostly SQLite, which lets go of the interpreter while it
inserts; reading, parsing and validating is pure Python. On a thread
(``on_thread``) the two still take turns at one interpreter. For a first
load of a large CSV or workbook on Linux, ``Forked`` does the reading in a
child process forked for the import (or two, taking alternate chunks), which
sends each chunk, validated and reduced to its INSERT statements, to the
importer: they run on two cores.

The child only reads the file and computes; it never touches the database
(the transaction stays the parent's, so a cancel or a crash still changes
nothing). Either way the chunks come in file order, at most READ_AHEAD wait,
and a reading error is raised in the caller's thread, in the file's order.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import queue
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from itertools import islice
from typing import Any

from triage import private_files
from triage.imports.extracts import Extract, ExtractRow, Rejected
from triage.imports.validation import Chunk, Validator

CHUNK = 5000
# Chunks read and validated ahead of the one being stored.
READ_AHEAD = 2
# Messages a reading process has sent that wait for the store: a chunk is
# one, or two with its statements apart (about 1 MB together).
RECEIVED_AHEAD = 16

# The store's work on a validated chunk that needs no database: (rows it
# rejects, the chunk without them).
Prepare = Callable[[Chunk], tuple[list[Rejected], Chunk]]
# (rows read, the good rows, the bad ones), chunk by chunk.
Ahead = Iterator[tuple[int, Chunk, list[Rejected]]]

# fork, not spawn: the child needs nothing but the objects already built
# (the open file, its validator) and starts in milliseconds. Linux only:
# macOS's system libraries are not safe to use after a fork, Windows has none.
CAN_FORK = sys.platform.startswith("linux")
# The forked reader's pipe buffer: a whole chunk's message (private_files.widen_pipe).
PIPE_BYTES = 1 << 20


def chunks(
    rows: Iterator[ExtractRow | Rejected], size: int
) -> Iterator[list[ExtractRow | Rejected]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _validated(
    rows: Iterator[ExtractRow | Rejected],
    validator: Validator,
    prepare: Prepare,
    mine: Callable[[int], bool] | None = None,
) -> Iterator[tuple[int, Chunk, list[Rejected]]]:
    """Each chunk validated and prepared; only those whose number is ``mine``
    when given (the others are read, to know where each chunk starts)."""
    for number, chunk in enumerate(chunks(rows, CHUNK)):
        if mine is not None and not mine(number):
            continue
        valid, rejected = validator.validate(chunk)
        found, valid = prepare(valid)
        yield len(chunk), valid, rejected + found


_DONE = object()


def _hand_over(waiting: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put ``item`` in ``waiting`` once there is room; False if ``stop`` is
    set first (the consumer has gone: a cancel or a store error)."""
    while not stop.is_set():
        try:
            waiting.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def on_thread(
    rows: Iterator[ExtractRow | Rejected], validator: Validator, prepare: Prepare
) -> Ahead:
    """The chunks read, validated and prepared on a second thread. When the
    caller stops early (a cancel, a store error) the reading thread is
    stopped before this returns."""
    ready: queue.Queue[Any] = queue.Queue(READ_AHEAD)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in _validated(rows, validator, prepare):
                if not _hand_over(ready, item, stop):
                    return
            _hand_over(ready, _DONE, stop)
        except BaseException as error:  # handed to the caller, who raises it
            _hand_over(ready, error, stop)

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _marshalled(chunk: Chunk) -> bytes | None:
    """A chunk's INSERT statements (SQL text and plain values) taken out of
    it and written with ``marshal``, which the importer reads back in about
    0.6 of pickle's time (the writer's time: at 1,000,000 rows pickle's
    loads was 0.7-0.8 s of it); None if it has none, or a value marshal
    cannot write (then they go with the chunk). Both ends are the same
    interpreter (a fork), as marshal needs."""
    if chunk.statements is None:
        return None
    try:
        data = marshal.dumps(chunk.statements)
    except ValueError:
        return None
    chunk.statements = None
    return data


class ReadingFailed(RuntimeError):
    """The reading process stopped, or raised an error that cannot be sent."""


class Forked:
    """Reads ``extract`` in forked child processes: ``chunks`` as from
    ``on_thread``; ``fraction_read`` for progress. When the last chunk is
    in, the extract's line counts are those the children found.

    With ``readers`` of 2, two children read the whole file and each
    validates and prepares every other chunk, for a store whose writer
    would otherwise wait on one reading process (EM events). The chunks are
    still taken in file order, one from each in turn. A repeated key is
    judged by the validator alone, which in each child has seen only that
    child's chunks: so each chunk's new keys are checked here against every
    earlier chunk's, and from the first chunk a child could not judge (a
    key it did not know was seen, or one it found repeated, which an
    earlier chunk of the other child may have held first) one child reads
    on, its validator knowing every key before that chunk. The result is
    the one reader's, row for row."""

    def __init__(self, extract: Extract) -> None:
        self.extract = extract
        self.fraction = 0.0
        self.started = False

    def fraction_read(self) -> float:
        return self.fraction

    def chunks(self, validator: Validator, prepare: Prepare, readers: int = 1) -> Ahead:
        self.started = True
        offset = self.extract.file_offset()  # where every child starts reading
        if self.extract.is_xlsx:
            readers = 1  # a workbook's parsing is most of its reading: not done twice
        elif readers > 1 and not self.extract.can_read_privately():
            readers = 1  # two would move each other's file position
        skip = 0
        while True:
            from_chunk = yield from self._from_children(validator, prepare, readers, skip, offset)
            if from_chunk is None:
                return
            readers, skip = 1, from_chunk

    def _from_children(
        self, validator: Validator, prepare: Prepare, readers: int, skip: int, offset: int
    ) -> Generator[tuple[int, Chunk, list[Rejected]], None, int | None]:
        """The chunks from number ``skip`` on, read by ``readers`` children;
        returns None at the end of the file, or the number of a chunk the
        children could not judge the keys of (it is not yielded)."""
        context = multiprocessing.get_context("fork")
        stop = threading.Event()
        children: list[Any] = []
        receivers: list[threading.Thread] = []
        ends: list[Any] = []
        # Each child's pipe is drained by a thread of its own (reading gives
        # up the interpreter), so a child seldom waits to send while this
        # thread stores: up to RECEIVED_AHEAD messages wait here, as bytes.
        received: list[queue.Queue[bytes | None]] = []
        try:
            for index in range(readers):
                receiving, sending = context.Pipe(duplex=False)
                ends.append(receiving)
                # A chunk's message is about 1 MB: through the default 64 KB
                # buffer the reading process waited for the importer 16 times a
                # chunk (1.7 s of wall at 1,000,000 rows, while it paces the import).
                private_files.widen_pipe(sending.fileno(), PIPE_BYTES)
                child = context.Process(
                    target=self._child,
                    args=(ends, sending, validator, prepare, (index, readers, skip, offset)),
                    name="import-reader",
                    daemon=True,
                )
                child.start()
                children.append(child)
                sending.close()  # before the next fork, so the pipe ends with its child
            # Started once every child is forked: a fork copies no thread.
            for receiving in ends:
                waiting: queue.Queue[bytes | None] = queue.Queue(RECEIVED_AHEAD)
                received.append(waiting)
                receiver = threading.Thread(
                    target=_receive,
                    args=(receiving, waiting, stop),
                    name="import-receiver",
                    daemon=True,
                )
                receiver.start()
                receivers.append(receiver)
            earlier = _EarlierKeys(validator.seen_keys)
            number = skip
            while True:
                waiting = received[(number - skip) % readers]
                data = waiting.get()
                if data is None:
                    raise ReadingFailed("the import's reading process stopped")
                message = pickle.loads(data)
                if message[0] == "chunk":
                    _, read, valid, rejected, self.fraction, marshalled, new_keys = message
                    if marshalled:  # its statements follow (see _child)
                        if (data := waiting.get()) is None:
                            raise ReadingFailed("the import's reading process stopped")
                        valid.statements = marshal.loads(data)
                    if readers > 1 and (new_keys is None or not earlier.take(*new_keys)):
                        earlier.file()  # the reader from here on knows every earlier key
                        return number
                    yield read, valid, rejected
                    number += 1
                elif message[0] == "done":
                    _, self.extract.lines, self.extract.blank_lines, self.extract.multi_line = (
                        message
                    )
                    return None
                else:
                    raise message[1]
        finally:
            stop.set()
            # Stopped early (a cancel, a store error, a restart): a child may
            # be waiting to send; it holds nothing but its reading. Once it has
            # ended, its receiver meets the end of the pipe.
            for child in children:
                if child.is_alive():
                    child.terminate()
                child.join()
            for receiver in receivers:
                receiver.join()
            for receiving in ends:
                receiving.close()

    def _child(
        self,
        ends: list[Any],
        sending: Any,
        validator: Validator,
        prepare: Prepare,
        share: tuple[int, int, int, int],
    ) -> None:
        """A child's work: each of its chunks (from number ``skip``, every
        ``readers``-th from ``index``) sent as soon as it is ready (the pipe
        holds one back, so the parent's next chunk is waiting when it asks).
        Leaves by ``os._exit``: nothing of the parent's copied state (its
        database connections above all) is closed or finalised here."""
        index, readers, skip, offset = share
        for end in ends:  # the parent's (a fork copies every one open)
            end.close()
        code = 0
        try:
            extract = self.extract
            if readers > 1:
                # One reader alone reads on through the file position it
                # shares with the importer, which reads nothing meanwhile
                # (nor did the two before a hand-over: each had its own).
                extract.read_privately(offset)

            def mine(number: int) -> bool:
                return number >= skip and (number - skip) % readers == index

            def passed_over(first: int) -> tuple[bool, int]:
                """Whether the row numbered ``first`` is in a chunk another
                reader validates (or one before ``skip``), and the rows from
                it to its chunk's end."""
                number = first // CHUNK
                return not mine(number), (number + 1) * CHUNK - first

            if readers > 1 or skip:
                extract.passed_over = passed_over
            for read, valid, rejected in _validated(extract.rows(), validator, prepare, mine):
                statements = _marshalled(valid)
                new_keys = validator.new_keys if readers > 1 else None
                sending.send(
                    ("chunk", read, valid, rejected, extract.fraction_read(), statements, new_keys)
                )
                if statements is not None:
                    sending.send_bytes(statements)
            sending.send(("done", extract.lines, extract.blank_lines, extract.multi_line))
        except BrokenPipeError:
            code = 1  # the parent stopped reading
        except BaseException as error:
            code = 1
            try:
                sending.send(("error", error))
            except Exception:  # noqa: BLE001 - an error that does not pickle
                sending.send(("error", ReadingFailed(f"reading failed ({type(error).__name__})")))
        finally:
            os._exit(code)


class _EarlierKeys:
    """The keys of the chunks taken so far from two readers, for the check
    that each chunk's keys are new to the file (``Forked``), with the line
    each was first on: in ``seen`` (the validator's), or held back.

    An extract's keys usually rise through the file (events numbered as
    they were written): a chunk whose lowest key is above every earlier key
    repeats none of them, with no look-up, and its keys are only held
    (the look-up and the dictionary's update were 0.5-0.6 s of the
    importer's CPU over 860,000 events). From the first chunk that is not
    above them, or whose keys do not compare, every key is in ``seen``
    and looked up. ``file`` puts the held keys in ``seen`` for a reader
    that must know every earlier key (a hand-over)."""

    def __init__(self, seen: dict[Any, int]) -> None:
        self.seen = seen
        self.held: list[tuple[list[Any], list[int]]] = []
        self.highest: Any = None
        self.rising = not seen  # while every chunk's keys are above those before

    def take(self, keys: list[Any], lines: list[int]) -> bool:
        """Whether ``keys`` (a chunk's, each new to its reader) are new to
        the file; if so they are kept with their ``lines``."""
        if self.rising:
            try:
                above = not keys or self.highest is None or min(keys) > self.highest
                highest = max(keys) if keys else self.highest
            except TypeError:  # a composite key with an empty part: no order
                above = False
            if above:
                self.highest = highest
                self.held.append((keys, lines))
                return True
            self.file()
            self.rising = False
        if not self.seen.keys().isdisjoint(keys):
            return False
        self.seen.update(zip(keys, lines, strict=True))
        return True

    def file(self) -> None:
        for keys, lines in self.held:
            self.seen.update(zip(keys, lines, strict=True))
        self.held.clear()


def _receive(receiving: Any, waiting: queue.Queue[bytes | None], stop: threading.Event) -> None:
    """Hand a pipe's messages to ``waiting`` until it ends (None) or ``stop``."""
    try:
        while _hand_over(waiting, receiving.recv_bytes(), stop):
            pass
    except (EOFError, OSError):
        _hand_over(waiting, None, stop)  # the child has ended (all it sent is in)
