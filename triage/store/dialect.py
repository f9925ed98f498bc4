"""The differences between SQLite and PostgreSQL, each behind one function.

Everything else (tables, queries, migrations) is written once with SQLAlchemy
Core and runs on both. What cannot be written once lives here: the
append-only triggers' syntax, how a writer takes the write lock, listing
tables, and the few SQLite functions our stored CHECK constraints and
queries call (given to PostgreSQL as SQL functions of the same name).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    Subquery,
    Table,
    and_,
    false,
    func,
    inspect,
    literal,
    select,
    text,
    update,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

APPEND_ONLY = "audit_log is append-only"
# PostgreSQL's text type cannot hold NUL: text that may carry one (a
# quarantined line as read) shows it as U+2400, the symbol for NUL, on both.
NUL_SHOWN_AS = "\u2400"
# One number for the transaction-scoped advisory lock every PostgreSQL
# writer of the audit chain takes (any constant works; it names the lock).
AUDIT_CHAIN_LOCK = 0x7472_6961_6765  # "triage"


def is_postgres(bind: Connection | Engine | Session) -> bool:
    if isinstance(bind, Connection | Engine):
        return bind.dialect.name == "postgresql"
    return bind.get_bind().dialect.name == "postgresql"  # a session


def table_names(connection: Connection) -> list[str]:
    """The tables in the database (SQLite's sqlite_master, PostgreSQL's catalogue)."""
    return list(inspect(connection).get_table_names())


def database_size(connection: Connection) -> int:
    """Bytes the database takes on the server (a SQLite file's size is its own)."""
    return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def lock_rows(session: Session, table: Any, *where: Any) -> None:
    """Lock the rows of ``table`` matching ``where`` for this transaction, before
    reading them, so a check and the write it allows are one step: PostgreSQL
    locks those rows (SELECT ... FOR UPDATE; others wait, readers do not);
    SQLite takes its one write lock (a write that changes nothing), waiting
    up to the busy timeout for another writer."""
    if is_postgres(session):
        session.execute(select(literal(1)).select_from(table).where(*where).with_for_update())
    else:
        write_first(session, table)


def write_first(session: Connection | Session, table: Any) -> None:
    """Before a transaction that reads and then writes what it read (a
    re-rank): on SQLite, take the one write lock now (a write to ``table``
    that changes nothing), waiting up to the busy timeout for another writer.
    Read first, its snapshot would be stale once another writer committed,
    and its first write would fail at once with "database is locked".
    PostgreSQL needs nothing: rows are locked as they are written, and
    readers and other writers of other rows go on."""
    if not is_postgres(session):
        key = next(iter(inspect(table).primary_key))
        session.execute(update(table).where(false()).values({key.name: key}))


def begin_write(connection: Connection) -> None:
    """Take the database's write lock at the start of a transaction, so that a
    second process doing the same (setting up one schema) waits for the first:
    SQLite's BEGIN IMMEDIATE; on PostgreSQL a transaction-scoped advisory lock."""
    if is_postgres(connection):
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1)")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_read(connection: Connection) -> None:
    """Start a transaction whose reads all see one snapshot of the database
    (several queries that must agree): SQLite's BEGIN (its first read takes
    the snapshot); PostgreSQL's REPEATABLE READ."""
    if is_postgres(connection):
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    else:
        connection.exec_driver_sql("BEGIN")


def install_functions(connection: Connection) -> None:
    """PostgreSQL: SQLite's ``instr`` (our CHECK constraints call it) and
    ``julianday`` (day arithmetic in queries), as SQL functions. SQLite has them."""
    if not is_postgres(connection):
        return
    for statement in (
        "CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos(haystack, needle)'",
        "CREATE OR REPLACE FUNCTION julianday(moment timestamp) RETURNS double precision "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "AS 'SELECT extract(epoch FROM moment)::double precision / 86400.0 + 2440587.5'",
        "CREATE OR REPLACE FUNCTION julianday(moment text) RETURNS double precision "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT julianday(moment::timestamp)'",
        # json_extract(doc, '$.key'): one level, as our queries use it.
        "CREATE OR REPLACE FUNCTION json_extract(doc json, path text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT doc ->> substr(path, 3)'",
        # audit.redacted: what a purged audit value is stored as (its digest).
        "CREATE OR REPLACE FUNCTION triage_audit_redacted(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE "
        "WHEN value IS NULL THEN NULL "
        "WHEN starts_with(value, '[purged] sha256:') THEN value "
        "ELSE '[purged] sha256:' || encode(sha256(convert_to(value, 'UTF8')), 'hex') END $$",
    ):
        connection.exec_driver_sql(statement)


def create_append_only_triggers(connection: Connection) -> None:
    """Refuse every UPDATE and DELETE of ``audit_log`` (and TRUNCATE on PostgreSQL)."""
    if is_postgres(connection):
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege'; "
            "END $$"
        )
        for verb in ("UPDATE", "DELETE"):
            connection.exec_driver_sql(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
            )
        connection.exec_driver_sql(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        connection.exec_driver_sql(
            f"""
            CREATE TRIGGER audit_log_no_{verb.lower()}
            BEFORE {verb} ON audit_log
            BEGIN
                SELECT RAISE(ABORT, '{APPEND_ONLY}');
            END
            """
        )


def drop_append_only_triggers(connection: Connection) -> None:
    on = " ON audit_log" if is_postgres(connection) else ""
    for verb in ("update", "delete", "truncate"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_log_no_{verb}{on}")


def append_only_trigger_sql(connection: Connection) -> dict[str, str]:
    """Each audit_log trigger's name and definition, as the database stores them
    (on PostgreSQL only enabled triggers: a disabled one refuses nothing)."""
    if is_postgres(connection):
        rows = connection.execute(
            text(
                "SELECT t.tgname, pg_get_triggerdef(t.oid) || ' ' || p.prosrc "
                "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgrelid = to_regclass('audit_log') AND NOT t.tgisinternal "
                "AND t.tgenabled <> 'D'"
            )
        ).all()
    else:
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        ).all()
    return {str(name): str(sql or "") for name, sql in rows}


def refuses(verb: str, definition: str) -> bool:
    """Whether a stored trigger definition refuses ``verb`` on audit_log."""
    sql = " ".join(definition.split()).upper()
    if f"BEFORE {verb} ON " not in sql or "AUDIT_LOG" not in sql:
        return False
    return "RAISE(ABORT" in sql or "RAISE EXCEPTION" in sql


def create_rank_stale_triggers(connection: Connection, tables: tuple[str, ...]) -> None:
    """Any change to ``tables`` marks the ranking stale (rank_state.dirty)."""
    postgres = is_postgres(connection)
    if postgres:
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION rank_mark_stale() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF EXISTS (SELECT 1 FROM changed) THEN "
            "UPDATE rank_state SET dirty = true WHERE id = 1 AND NOT dirty; END IF; RETURN NULL; "
            "END $$"
        )
    for table in tables:
        for verb in ("INSERT", "UPDATE", "DELETE"):
            name = f"rank_stale_on_{table}_{verb.lower()}"
            if postgres:
                # Once per statement, only when it changed rows (as SQLite's row triggers).
                changed = "OLD" if verb == "DELETE" else "NEW"
                connection.exec_driver_sql(
                    f"CREATE TRIGGER {name} AFTER {verb} ON {table} "
                    f"REFERENCING {changed} TABLE AS changed "
                    "FOR EACH STATEMENT EXECUTE FUNCTION rank_mark_stale()"
                )
            else:
                connection.exec_driver_sql(
                    f"""
                    CREATE TRIGGER {name}
                    AFTER {verb} ON {table}
                    WHEN (SELECT dirty FROM rank_state WHERE id = 1) = 0
                    BEGIN
                        UPDATE rank_state SET dirty = 1 WHERE id = 1;
                    END
                    """
                )


def drop_rank_stale_triggers(connection: Connection, tables: tuple[str, ...]) -> None:
    postgres = is_postgres(connection)
    for table in tables:
        for verb in ("insert", "update", "delete"):
            on = f" ON {table}" if postgres else ""
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS rank_stale_on_{table}_{verb}{on}")


def pause_rank_stale_on_insert(connection: Connection, table: str) -> str | None:
    """SQLite: drop ``table``'s insert trigger that marks the ranking stale,
    returning the statement that makes it again (None if there is none, and
    on PostgreSQL, whose trigger runs once per statement).

    For a bulk insert in one transaction: the trigger's WHEN reads rank_state
    once per row, a third of what inserting the row costs. The caller calls
    ``mark_rank_stale`` once if it inserted anything, then makes the trigger
    again, in the same transaction."""
    if is_postgres(connection):
        return None
    name = f"rank_stale_on_{table}_insert"
    found = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
    ).scalar()
    if found is None:
        return None
    connection.exec_driver_sql(f"DROP TRIGGER {name}")
    return str(found)


def mark_rank_stale(connection: Connection) -> None:
    """What the rank_stale triggers do, once."""
    connection.exec_driver_sql("UPDATE rank_state SET dirty = 1 WHERE id = 1 AND dirty = 0")


# Statistics: the few expressions SQLite and PostgreSQL cannot write alike.


def sqlite_version_at_least(connection: Connection, *version: int) -> bool:
    """Whether a SQLite connection's library is at least ``version`` (False on PostgreSQL).
    The older-Linux bundle links SQLite 3.34."""
    if is_postgres(connection):
        return False
    found: str = connection.exec_driver_sql("SELECT sqlite_version()").scalar_one()
    return tuple(int(part) for part in str(found).split(".")) >= version


def materialized(connection: Connection) -> str:
    """The ``MATERIALIZED`` hint of a CTE that must be computed once (PostgreSQL 12+
    and SQLite 3.35+; SQLite 3.34 has no such syntax, and its plan is left to it)."""
    if is_postgres(connection) or sqlite_version_at_least(connection, 3, 35):
        return "MATERIALIZED"
    return ""


def full_scan(connection: Connection) -> str:
    """After a table name: read the whole table in order, not through an index.
    SQLite's ``NOT INDEXED`` (its planner otherwise picks a range index that
    costs a lookup per row); PostgreSQL plans its own scans."""
    return "" if is_postgres(connection) else "NOT INDEXED"


def sort_in_memory(connection: Connection) -> None:
    """A big GROUP BY's sort kept in memory: SQLite's ``PRAGMA temp_store``
    (per connection). PostgreSQL sorts within ``work_mem`` as its operator set it."""
    if not is_postgres(connection):
        connection.exec_driver_sql("PRAGMA temp_store=MEMORY")


def local_date_text(
    connection: Connection, column: str, offsets: list[tuple[str, str, int]]
) -> str:
    """SQL for the UK date, as text 'YYYY-MM-DD', of a naive-UTC column.

    PostgreSQL converts with its own time-zone data. SQLite has none: ``offsets``
    are the UTC intervals [from, to) (stored text) in which London is ahead of
    UTC by so many minutes, written into the expression as a CASE."""
    if is_postgres(connection):
        return f"to_char(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/London', 'YYYY-MM-DD')"
    whens = " ".join(
        f"WHEN {column} >= '{start}' AND {column} < '{end}' THEN '+{minutes} minutes'"
        for start, end, minutes in offsets
    )
    if not whens:
        return f"date({column})"
    full = f"date({column}, CASE {whens} ELSE '+0 minutes' END)"
    if all(0 < minutes <= 60 for _, _, minutes in offsets):
        # At most an hour ahead (London): only an instant from 23:00 UTC on
        # can fall on the next UK day, so the CASE runs for 1 row in 24.
        return (
            f"CASE WHEN substr({column}, 12, 2) < '23' THEN substr({column}, 1, 10) ELSE {full} END"
        )
    return full


def latest_per_key_with(
    bind: Connection | Session,
    key: Any,
    latest: Any,
    column: Any,
    *aggregates: Any,
    where: Any = None,
    name: str = "latest",
) -> Subquery:
    """A subquery of one row per ``key`` of its table's rows matching
    ``where``: ``key``, the ``column`` of the row with the greatest
    ``latest`` (the pair must be unique), and the labelled ``aggregates``
    over all of the key's rows. SQLite returns a bare column from the row
    holding a max(), so one pass over the rows (a covering index) gives it;
    PostgreSQL's latest rows are joined back to the per-key aggregates."""
    table = key.table
    chosen = select(key, func.max(latest).label(latest.name), *aggregates)
    if where is not None:
        chosen = chosen.where(where)
    if not is_postgres(bind):
        return chosen.add_columns(column).group_by(key).subquery(name)
    last = chosen.group_by(key).subquery("last")
    return (
        select(last.c[key.name], column, *(last.c[a.name] for a in aggregates))
        .join(table, and_(key == last.c[key.name], latest == last.c[latest.name]))
        .subquery(name)
    )


def scratch_table(
    connection: Connection, name: str, *columns: Column[Any], keyed: bool = False
) -> Table:
    """An empty temporary table of this connection's session (others never see
    it), made afresh: any one left by an earlier use of the connection is
    dropped first. PostgreSQL also drops it at commit (its catalogue rows
    would otherwise outlive the transaction on a pooled connection); SQLite
    keeps it in the connection's ``temp`` schema until the next use.
    ``keyed``: looked up by a primary key that is not one integer, which
    SQLite then stores as the table itself (WITHOUT ROWID): one b-tree
    search per look-up instead of the key's index and then the row."""
    postgres = is_postgres(connection)
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {'' if postgres else 'temp.'}{name}")
    scratch = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    if postgres:
        scratch.dialect_options["postgresql"]["on_commit"] = "DROP"
    elif keyed:
        scratch.dialect_options["sqlite"]["with_rowid"] = False
    scratch.create(connection)
    return scratch


@contextmanager
def index_set_aside(connection: Connection, index: Index) -> Iterator[None]:
    """Around a bulk rewrite of ``index``'s table: SQLite drops the index and
    builds it again after (several times faster than updating it row by
    row; its one writer blocks everyone else anyway). PostgreSQL keeps it:
    DROP INDEX would lock the table against every reader until commit, and
    the app's least-privilege login does not own the tables."""
    if is_postgres(connection):
        yield
        return
    index.drop(connection)
    yield
    index.create(connection)


# SQL text fragments for the rule pack compiler (triage.rules.engine), which
# writes one statement as text for speed. ``postgres`` picks the dialect.


def epoch_seconds_sql(postgres: bool, column: str) -> str:
    """Whole seconds since 1970 of a stored naive-UTC timestamp, fractions
    dropped (Python's ``calendar.timegm`` agrees). SQLite stores text, cut to
    seconds first because SQLite rounds fractions to milliseconds (.999999
    would become the next second); ``strftime('%s')``, not ``unixepoch``,
    which SQLite only has from 3.38 (the older-Linux bundle links bullseye's
    3.34). PostgreSQL stores a ``timestamp``, whose epoch is taken as UTC.

    SQLite's ``julianday`` of a whole second is within 1e-4 s of it (an
    integer of milliseconds over 86,400,000, in a double), so rounding its
    seconds gives them exactly; ``strftime('%s')`` wrote them as text, which
    CAST then parsed: 1% of a full re-rank's instructions more
    (docs/benchmarks.md)."""
    if postgres:
        return f"CAST(extract(epoch FROM date_trunc('second', {column})) AS BIGINT)"
    return f"CAST(round((julianday(substr({column}, 1, 19)) - 2440587.5) * 86400) AS INTEGER)"


def seconds_later_sql(postgres: bool, later: str, earlier: str, seconds: int) -> str:
    """Whether stored time ``later`` is more than ``seconds`` whole seconds after
    ``earlier`` (both cut to whole seconds, as ``epoch_seconds_sql``). SQLite
    compares the text of ``later`` with one date calculation on ``earlier``
    (a stored time sorts at or after a whole second's text exactly when its
    whole seconds do), half the cost of two epochs."""
    if postgres:
        return f"{epoch_seconds_sql(True, later)} - {epoch_seconds_sql(True, earlier)} > {seconds}"
    return f"{later} >= datetime(substr({earlier}, 1, 19), '+{seconds + 1} seconds')"


def smaller_sql(postgres: bool, a: str, b: str) -> str:
    """The smaller of two values that are never NULL (SQLite's two-argument
    ``min`` gives NULL for a NULL, PostgreSQL's ``least`` skips it)."""
    return f"least({a}, {b})" if postgres else f"min({a}, {b})"


def larger_sql(postgres: bool, a: str, b: str) -> str:
    """The larger of two values that are never NULL (see ``smaller_sql``)."""
    return f"greatest({a}, {b})" if postgres else f"max({a}, {b})"


def real_sql(postgres: bool, value: float) -> str:
    """A floating-point literal: PostgreSQL reads ``0.5`` as ``numeric``, whose
    ``pow`` is exact and slow, so it is typed ``double precision`` there."""
    return f"CAST({value!r} AS DOUBLE PRECISION)" if postgres else repr(value)


def unflattened_sql(postgres: bool) -> str:
    """The clause that keeps a subquery from being merged into the query
    around it (so its per-row work is done once): an OFFSET of 0, which
    SQLite allows only after a LIMIT (-1: none) and PostgreSQL only without
    a negative one."""
    return "OFFSET 0" if postgres else "LIMIT -1 OFFSET 0"


def date_text_sql(postgres: bool, column: str) -> str:
    """A stored date as the text Python's ``str(date)`` gives ('YYYY-MM-DD'):
    SQLite stores it so; PostgreSQL's own text of a date follows the
    session's DateStyle, so it is written out."""
    return f"to_char({column}, 'YYYY-MM-DD')" if postgres else column
