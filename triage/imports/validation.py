"""Checking and converting an extract's rows, a chunk at a time.

Pure: no database, so it runs wherever the importer wants it. The work goes
column by column because most columns hold a few distinct codes (regions,
gradings, flags): each distinct cell is converted once and the whole column
is mapped through that table at C speed. That, not the per-cell checks, is
what keeps a million-row import quick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from typing import Any

from triage import clock
from triage.imports.columns import Column, ExtractKind, datetime_, text
from triage.imports.extracts import ExtractRow, Rejected

# A "repetitive" column with more distinct cells than this is converted cell
# by cell from then on: the memo is a speed-up, not a cache of the file.
MEMO_LIMIT = 10_000


@dataclass
class Chunk:
    """A chunk's valid rows, held column by column."""

    names: list[str]  # the stored attribute of each column
    columns: list[list[Any]]  # converted values, one list per name
    lines: list[int]
    cells: list[list[str]]  # raw cells, should a later check reject the row
    extras: list[dict[str, str] | None]  # cells of columns the format does not know
    # The columns then the extras in the form they are stored, once a store
    # has made them (kept in step by ``take``, dropped by ``add_column``).
    stored: list[list[Any]] | None = None
    # Datetime columns' values as stored (column name -> texts), made with
    # them by the validator.
    time_texts: dict[str, list[str | None]] = field(default_factory=dict)
    # and their UK calendar days (days since 1970-01-01), for columns marked uk_day.
    time_days: dict[str, list[int | None]] = field(default_factory=dict)
    # A chunk reduced to the statements that insert it (SQL, parameters),
    # once a store has made them: no longer split.
    statements: list[tuple[str, Any]] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> list[Any]:
        return self.columns[self.names.index(name)]

    def add_column(self, name: str, values: list[Any]) -> None:
        self.names.append(name)
        self.columns.append(values)
        self.stored = None

    def rows(self) -> list[dict[str, Any]]:
        """Row by row, for the paths that compare or look rows up one at a time."""
        return [
            dict(zip(self.names, values, strict=True)) for values in zip(*self.columns, strict=True)
        ]

    def take(self, keep: list[bool]) -> Chunk:
        """The rows whose ``keep`` flag is true."""
        if self.statements is not None:
            raise ValueError("a chunk reduced to its statements cannot be split")
        return Chunk(
            list(self.names),
            [list(compress(values, keep)) for values in self.columns],
            list(compress(self.lines, keep)),
            list(compress(self.cells, keep)),
            list(compress(self.extras, keep)),
            None if self.stored is None else [list(compress(v, keep)) for v in self.stored],
            {name: list(compress(v, keep)) for name, v in self.time_texts.items()},
            {name: list(compress(v, keep)) for name, v in self.time_days.items()},
        )

    def split(self, problems: dict[int, str]) -> tuple[list[Rejected], Chunk]:
        """Rows found bad (row index -> reason) as rejections, and the chunk without them."""
        if not problems:
            return [], self
        rejected = [
            Rejected(self.lines[k], self.cells[k], reason) for k, reason in sorted(problems.items())
        ]
        return rejected, self.take([k not in problems for k in range(len(self))])


# Datetime columns' stored texts and UK days, by column (Chunk.time_texts, time_days).
_Times = tuple[dict[str, list[str | None]], dict[str, list[int | None]]]


class _Problem:
    """A cell that failed its check; stands in for the value in a column."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class Validator:
    """Checks and converts the rows of one file, chunk by chunk.

    Remembers the keys it has seen, so a key repeated anywhere in the file is
    rejected with the line it first appeared on.
    """

    def __init__(
        self,
        spec: ExtractKind,
        header: list[str],
        raw_header: list[str],
        lengths: dict[str, int] | None = None,
    ) -> None:
        self.header = header
        # The longest text each stored attribute takes (its column's declared
        # length): PostgreSQL refuses a longer one, failing the whole import.
        self.lengths = lengths or {}
        self.width = len(header)
        # Where each known column sits in a row; everything else is "extra".
        self.plan = [(i, column) for i, name in enumerate(header) if (column := spec.column(name))]
        self.names = [column.attribute for _, column in self.plan]
        self.extra_positions = [
            (i, raw_header[i].strip())
            for i, name in enumerate(header)
            if name and spec.column(name) is None
        ]
        # Where the key's cells are, to name a repeated key as the file wrote it.
        self.key_cells = [header.index(name) for name in (spec.key, *spec.also_key)]
        self.key_columns = [
            self.names.index(column.attribute)
            for column in spec.columns
            if column.name in (spec.key, *spec.also_key)
        ]
        self.memos: dict[str, dict[str, Any]] = {
            column.name: {} for _, column in self.plan if column.repetitive
        }
        self.seen_keys: dict[Any, int] = {}
        # The last chunk's keys that ``seen_keys`` gained and their lines, or
        # None if it repeated one (so another process can check them against
        # keys this validator never saw: triage.imports.reading).
        self.new_keys: tuple[list[Any], list[int]] | None = None

    def validate(self, rows: list[ExtractRow | Rejected]) -> tuple[Chunk, list[Rejected]]:
        """The chunk's good rows, converted, and its bad rows with their reasons
        (with those the reader already found bad)."""
        good = [item for item in rows if item.__class__ is tuple]
        rejected: list[Rejected] = []
        if len(good) < len(rows):
            rejected = [item for item in rows if isinstance(item, Rejected)]
        lines: list[int] = [line_no for line_no, _ in good]
        cells: list[list[str]] = [row for _, row in good]
        if set(map(len, cells)) - {self.width}:
            wrong = {k for k, row in enumerate(cells) if len(row) != self.width}
            rejected += [
                Rejected(
                    lines[k],
                    cells[k],
                    f"the row has {len(cells[k])} cells, the header has {self.width}",
                )
                for k in sorted(wrong)
            ]
            lines = [line_no for k, line_no in enumerate(lines) if k not in wrong]
            cells = [row for k, row in enumerate(cells) if k not in wrong]
        by_column = list(zip(*cells, strict=True)) if cells else [()] * self.width
        problems: dict[int, list[str]] = {}
        times: _Times = ({}, {})
        columns = [self._convert(column, by_column[i], problems, times) for i, column in self.plan]
        self._check_keys(columns, cells, lines, problems)
        if self.extra_positions:
            extras = [
                {name: row[i] for i, name in self.extra_positions if row[i].strip()} or None
                for row in cells
            ]
        else:
            extras = [None] * len(cells)
        chunk = Chunk(
            list(self.names), columns, lines, cells, extras, time_texts=times[0], time_days=times[1]
        )
        bad, chunk = chunk.split({k: "; ".join(messages) for k, messages in problems.items()})
        return chunk, sorted(rejected + bad, key=lambda row: row.line_no)

    def _convert(
        self,
        column: Column,
        cells: tuple[str, ...],
        problems: dict[int, list[str]],
        made: _Times,
    ) -> list[Any]:
        memo = self.memos.get(column.name)
        if column.convert is datetime_:
            # A whole column at once (times are mostly distinct, so no memo),
            # with the text each is stored as and, where kept, its UK day.
            texts: list[str | None] = []
            days: list[int | None] | None = [] if column.uk_day else None
            times, failed_at = clock.parse_datetimes(cells, texts, days)
            made[0][column.attribute] = texts
            if days is not None:
                made[1][column.attribute] = days
            for k, message in failed_at.items():
                problems.setdefault(k, []).append(f"{column.name}: {message}")
            if column.required and None in times:
                for k, moment in enumerate(times):
                    if moment is None and k not in failed_at:
                        problems.setdefault(k, []).append(f"{column.name}: required but empty")
            return times
        longest = self.lengths.get(column.attribute)
        if column.convert is text:
            values: list[Any] = list(map(str.strip, cells))
            if "" in values:
                values = [value or None for value in values]
            if column.required and None in values:
                for k, value in enumerate(values):
                    if value is None:
                        problems.setdefault(k, []).append(f"{column.name}: required but empty")
            # The raw cells' longest first (one pass in C): a stripped text is no longer.
            if longest is not None and max(map(len, cells), default=0) > longest:
                for k, value in enumerate(values):
                    if value is not None and len(value) > longest:
                        problems.setdefault(k, []).append(_too_long(column, longest))
            return values
        if memo is not None and len(memo) < MEMO_LIMIT:
            distinct = set(cells)
            for cell in distinct.difference(memo):
                memo[cell] = _convert_cell(column, cell, longest)
            values = list(map(memo.__getitem__, cells))
            failed = any(isinstance(memo[cell], _Problem) for cell in distinct)
        else:
            values = [_convert_cell(column, cell, longest) for cell in cells]
            failed = any(isinstance(value, _Problem) for value in values)
        if failed:
            for k, value in enumerate(values):
                if isinstance(value, _Problem):
                    problems.setdefault(k, []).append(value.message)
                    values[k] = None
        return values

    def _check_keys(
        self,
        columns: list[list[Any]],
        cells: list[list[str]],
        lines: list[int],
        problems: dict[int, list[str]],
    ) -> None:
        """A key already seen in this file is a problem, named with its first line."""
        seen = self.seen_keys
        if len(self.key_columns) == 1:
            keys = columns[self.key_columns[0]]
        else:
            keys = list(zip(*(columns[i] for i in self.key_columns), strict=True))
        if not problems and len(set(keys)) == len(keys) and seen.keys().isdisjoint(keys):
            seen.update(zip(keys, lines, strict=True))  # the usual chunk: every key new
            self.new_keys = keys, lines
            return
        new_keys: tuple[list[Any], list[int]] | None = [], []
        for k, key in enumerate(keys):
            if k in problems:
                continue
            first = seen.setdefault(key, lines[k])
            if first != lines[k]:
                shown = " and ".join(self.header[i] for i in self.key_cells)
                problems[k] = [
                    f"{shown} repeat{'s' if len(self.key_cells) == 1 else ''} line {first}"
                ]
                new_keys = None
            elif new_keys is not None:
                new_keys[0].append(key)
                new_keys[1].append(lines[k])
        self.new_keys = new_keys


def _convert_cell(column: Column, cell: str, longest: int | None = None) -> Any:
    """A cell's value, or its problem (``longest``: the most characters a
    text value may have, its stored column's length)."""
    value = cell.strip()
    if not value:
        return _Problem(f"{column.name}: required but empty") if column.required else None
    try:
        converted = column.convert(value)
    except ValueError as error:
        return _Problem(f"{column.name}: {error}")
    if longest is not None and isinstance(converted, str) and len(converted) > longest:
        return _Problem(_too_long(column, longest))
    return converted


def _too_long(column: Column, longest: int) -> str:
    return f"{column.name}: longer than {longest} characters"
