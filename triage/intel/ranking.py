"""Ranked intelligence queues: the one core operation the CLI and the app share.

``refresh`` evaluates the rule pack in force over every item in one SQL
statement and rewrites ``intel_rank``; ``queue_ids`` and ``rows`` read a queue
from it in order (bucket, then score plus the weighted ML harm score, then
oldest first) or sorted by one column, ties in that order; ``agenda`` ranks a
region's or team's open items as of any instant, with the weekly capacity
line; ``explain`` traces one item.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    SQLColumnExpression,
    and_,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from triage import clock, packs, vocab
from triage.intel import tables
from triage.jobs import Job, job_or_silent
from triage.rules.engine import compile_pack, prepare
from triage.rules.pack import FILES, Pack, PackError, default_folder, load_pack
from triage.store import dialect
from triage.store.db import Database
from triage.store.tables import intel_item

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "PackError",
    "RankRun",
    "agenda",
    "ensure_current",
    "explain",
    "is_current",
    "item_id_for",
    "pack_in_force",
    "SORT_KEYS",
    "queue_ids",
    "queue_ranks",
    "refresh",
    "rerank_changed",
    "reload_pack",
    "rows",
]

# The folder of the intelligence pack in force (the bundled one unless
# ``reload_pack`` was given another).
_folder: Path | None = None


def _pack_files(folder: Path) -> list[Path]:
    return [folder / name for name in FILES]


def pack_in_force() -> Pack:
    """The pack in force, under ``triage.packs``' one cache rule."""
    folder = _folder or default_folder()
    return packs.in_force("intel", _pack_files(folder), lambda: load_pack(folder))


def reload_pack(folder: str | None = None) -> Pack:
    """Load a pack and put it in force; on ``PackError`` the old pack stays."""
    global _folder
    chosen = Path(folder) if folder else default_folder()
    pack = load_pack(chosen)
    _folder = chosen
    packs.put_in_force("intel", _pack_files(chosen), pack)
    return pack


# The tables as SQLAlchemy Core: the ranking's statements name table columns,
# not the models' attributes, so a `rank` process compiles them without the
# ORM's compile step and never sets up the mappers (~12 ms of its start).
_items = intel_item
_ranks = tables.intel_rank
_rank_state = tables.rank_state
_rank_changes = tables.rank_change


@dataclass(frozen=True)
class RankRun:
    rules_version: str
    items: int
    seconds: float
    as_of: datetime


_COLUMNS = "item_id, bucket, bucket_rule, score, flags, stale, age_days"
_UPDATE = ", ".join(
    f"{c} = excluded.{c}"
    for c in (
        "bucket",
        "bucket_rule",
        "score",
        "flags",
        "stale",
        "age_days",
        "harm_score",
        "queue_key",
        "rules_version",
        "as_of",
        "ranked_at",
    )
)


def _state(db: Database) -> Any:
    """The ranking's state row. Stale (``dirty``) also while the change log
    holds entries: on PostgreSQL a change (or a new item) whose transaction
    commits after a ranking has cleared the flag is still logged, and the flag
    alone would call the ranking current."""
    with db.engine.connect() as connection:
        return connection.execute(
            select(
                or_(_rank_state.c.dirty, select(_rank_changes.c.id).exists()).label("dirty"),
                _rank_state.c.full_rerank,
                _rank_state.c.rules_version,
                _rank_state.c.ranked_day,
                _rank_state.c.position_weight,
            ).where(_rank_state.c.id == 1)
        ).one_or_none()


def is_current(db: Database, *, pack: Pack | None = None, model_weight: float = 0.0) -> bool:
    """Whether the stored ranking is up to date: nothing it reads has changed
    since (the store's ``rank_state`` row, kept by triggers), and it was made
    today (UK time) with the pack in force and ``model_weight`` (the user's). One
    primary-key read and a look at the (usually empty) change log: cheap
    enough to ask before every read of the queue."""
    state = _state(db)
    return state is not None and not state.dirty and _same_run(state, pack, model_weight)


def _same_run(state: Any, pack: Pack | None, model_weight: float) -> bool:
    """Whether the stored ranking was made today with this pack and weight."""
    return bool(
        state.rules_version == (pack or pack_in_force()).version
        and state.ranked_day == clock.to_local(clock.now()).date()
        and state.position_weight == model_weight
    )


def ensure_current(
    db: Database,
    *,
    pack: Pack | None = None,
    job: Job | None = None,
    model_weight: float = 0.0,
) -> RankRun | None:
    """Bring the stored ranking up to date if it is not (``is_current``):
    the one call every reader that needs current ranks makes first (queue,
    statistics, a meeting's agenda). Returns the run, or None when nothing
    had changed.

    Made today with the same pack and weight, only what changed is ranked
    again (``rerank_changed``); a new day, pack, weight or harm model ranks everything
    (``refresh``)."""
    state = _state(db)
    if state is None or state.full_rerank or not _same_run(state, pack, model_weight):
        return refresh(db, pack=pack, job=job, model_weight=model_weight)
    if not state.dirty:
        return None
    return rerank_changed(db, pack=pack, job=job, model_weight=model_weight)


def refresh(
    db: Database,
    *,
    as_of: datetime | None = None,
    pack: Pack | None = None,
    model_weight: float = 0.0,
    job: Job | None = None,
) -> RankRun:
    """Rank every item as of ``as_of`` (default now) and rewrite ``intel_rank``.

    A cancel is looked for once, before the rules' transaction commits; one after
    is not looked for (``Cancelled.partial`` is None: the ranking is as it was)."""
    started = time.perf_counter()
    job = job_or_silent(job)
    job.progress(0.0, "ranking by the rules")
    pack = pack or pack_in_force()
    moment = as_of or clock.now()
    compiled = compile_pack(pack, moment, postgres=dialect.is_postgres(db.engine), by_id=True)
    with db.engine.begin() as connection:
        dialect.write_first(connection, _rank_state)
        seen = _changes_seen(connection)
        prepare(connection, compiled)
        # Rewriting a million sort keys through their index is several times
        # slower than building the index again afterwards.
        with _queue_index_rebuilt(connection):
            written = _write_ranks(connection, compiled, pack, moment)
            items: int = connection.execute(select(func.count()).select_from(_ranks)).scalar_one()
            if items != written:
                # Ranks of items deleted behind our back (foreign keys off):
                # the only ones this run did not write. Counting first spares
                # the usual run a look-up per rank.
                connection.exec_driver_sql(
                    "DELETE FROM intel_rank WHERE NOT EXISTS "
                    "(SELECT 1 FROM intel_item WHERE intel_item.id = intel_rank.item_id)"
                )
                items = written
        # Current as of now, unless something changed while it ran. Ranked as
        # of another instant, the stored ranks are not today's, so the next
        # reader re-ranks them all.
        changed = _clear_changes(connection, seen)
        _mark_ranked(
            connection,
            pack,
            moment,
            model_weight,
            full_rerank=as_of is not None,
            changed=changed,
            as_of=moment,
        )
        job.check("ranking cancelled; the ranks are as they were")
    job.progress(0.7, "scoring harm")
    # Scored after the ranks are committed: the model reads this run's buckets
    # (its rules_bucket feature), which an open write transaction would hide.
    _store_harm(db, _harm_scores(db, moment), model_weight)
    job.progress(1.0, f"{items:,} items ranked")
    return RankRun(pack.version, int(items), time.perf_counter() - started, moment)


def rerank_changed(
    db: Database,
    *,
    pack: Pack | None = None,
    model_weight: float = 0.0,
    job: Job | None = None,
) -> RankRun:
    """Rank again, as of now, only the items that changed since the stored
    ranking: new items (no rank yet), items whose rank inputs changed or that
    were deleted (``rank_change``), and the items sharing a subject or
    premises (and, with a harm model, a postcode) with any of them, old or
    new, whose corroboration counts move with them.
    The other items keep their ranks (as ``is_current`` keeps a ranking made
    earlier the same day). ``RankRun.items`` counts the items ranked again."""
    started = time.perf_counter()
    job = job_or_silent(job)
    job.progress(0.0, "ranking the changed items")
    pack = pack or pack_in_force()
    moment = clock.now()
    scoring = _model_active(db)
    with db.engine.begin() as connection:
        dialect.write_first(connection, _rank_state)
        seen = _changes_seen(connection)
        targets = _changed_items(connection, by_postcode=scoring)
        where = f"i.id IN (SELECT item_id FROM {_TARGETS})"
        compiled = compile_pack(
            pack, moment, where=where, few=True, postgres=dialect.is_postgres(connection)
        )
        # Ranks of deleted items. Only a logged item can be gone (deletes are
        # logged); the new items and their neighbours were just read from
        # intel_item, and looking each up again cost ~4 ms after 1,000 new items.
        logged = select(_rank_changes.c.item_id).where(_rank_changes.c.id.in_(select(seen.c.id)))
        connection.execute(
            delete(_ranks).where(
                _ranks.c.item_id.in_(logged),
                ~select(_items.c.id).where(_items.c.id == _ranks.c.item_id).exists(),
            )
        )
        _write_ranks(connection, compiled, pack, moment)
        ids: list[int] = list(connection.execute(select(targets.c.item_id)).scalars())
        changed = _clear_changes(connection, seen)
        _mark_ranked(connection, pack, moment, model_weight, full_rerank=False, changed=changed)
        job.check("ranking cancelled; the ranks are as they were")
    if ids and scoring:
        job.progress(0.7, "scoring harm")
        _store_harm(db, _harm_scores(db, moment, ids), model_weight)
    job.progress(1.0, f"{len(ids):,} items ranked")
    return RankRun(pack.version, len(ids), time.perf_counter() - started, moment)


_TARGETS = "rank_target"


def _changes_seen(connection: Any) -> Any:
    """The change log's entries as a ranking starts, in a scratch table: the
    ones it clears when done. On PostgreSQL each statement sees the latest
    commits, so a change committed while the ranking runs must stay logged
    for the next one; on SQLite the ranking's write lock keeps writers out."""
    seen = dialect.scratch_table(
        connection,
        "rank_change_seen",
        Column("id", Integer, primary_key=True, autoincrement=False),
    )
    connection.execute(insert(seen).from_select(["id"], select(_rank_changes.c.id)))
    return seen


def _clear_changes(connection: Any, seen: Any) -> bool:
    """Clear the changes ``seen``; whether any other is left: logged while the
    ranking ran, or an item added meanwhile (no rank yet)."""
    connection.execute(delete(_rank_changes).where(_rank_changes.c.id.in_(select(seen.c.id))))
    newest_item = select(func.max(_items.c.id)).scalar_subquery()
    newest_rank = select(func.max(_ranks.c.item_id)).scalar_subquery()
    left = or_(select(_rank_changes.c.id).exists(), newest_item > newest_rank)
    return bool(connection.execute(select(left)).scalar())


def _changed_items(connection: Any, *, by_postcode: bool) -> Any:
    """Fill the temporary table of items to rank again, and return it."""
    targets = dialect.scratch_table(
        connection, _TARGETS, Column("item_id", Integer, primary_key=True, autoincrement=False)
    )
    newest_ranked = select(func.coalesce(func.max(_ranks.c.item_id), 0)).scalar_subquery()
    # Ids only grow, so items with no rank yet are those past the newest ranked
    # one (an id reused after a delete is in the change log). On PostgreSQL,
    # where ids can commit out of order, every new item is logged too (0014).
    changed = (
        select(_items.c.id)
        .where(_items.c.id > newest_ranked)
        .union(select(_rank_changes.c.item_id))
    )
    connection.execute(insert(targets).from_select(["item_id"], changed))
    # Their corroboration groups: the keys they have now and those they had.
    # The rules count subjects and premises (postcode and business name); an
    # active harm model also counts postcodes alone.
    keys: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = [
        ((_items.c.subject_ref,), (_rank_changes.c.subject_ref,)),
        (
            (_items.c.postcode, _items.c.business_name),
            (_rank_changes.c.postcode, _rank_changes.c.business_name),
        ),
    ]
    if by_postcode:
        keys.append(((_items.c.postcode,), (_rank_changes.c.postcode,)))
    for now, before in keys:
        shared = select(*now).where(_items.c.id.in_(select(targets.c.item_id)))
        group = shared.union(select(*before)).subquery()
        # A join, not ``(postcode, business_name) IN (...)``: SQLite scans the
        # whole index for a row value IN a subquery (0.2 s at 1M items) but
        # looks each key up when joined (2 ms). Equal keys only: NULL matches
        # nothing either way, and the union's keys are distinct, so no item twice.
        on = [column == key for column, key in zip(now, group.c, strict=True)]
        neighbours = (
            select(_items.c.id)
            .join(group, and_(*on))
            .where(_items.c.id.not_in(select(targets.c.item_id)))
        )
        connection.execute(insert(targets).from_select(["item_id"], neighbours))
    return targets


def _write_ranks(connection: Any, compiled: Any, pack: Pack, moment: datetime) -> int:
    """Upsert the ranks ``compiled`` selects; harm scores are written after.
    Returns how many ranks it wrote."""
    params = dict(compiled.params, version=pack.version, ranked_at=clock.sql_timestamp(clock.now()))
    # Updating rows in place, in key order, is ~3x faster than deleting
    # and re-inserting a million of them (docs/benchmarks.md).
    order = "" if compiled.by_id else "ORDER BY item_id"
    # The ranks kept apart (not merged into this SELECT): merged, the score
    # and queue_key columns each worked out the whole score, and the full
    # re-rank took 4% more instructions (docs/benchmarks.md).
    kept_apart = dialect.unflattened_sql(dialect.is_postgres(connection))
    written: int = connection.execute(
        text(
            f"INSERT INTO intel_rank ({_COLUMNS}, harm_score, queue_key, rules_version, as_of, "
            f"ranked_at) SELECT {_COLUMNS}, NULL, -score, :version, :as_of, :ranked_at "
            f"FROM ({compiled.sql} {kept_apart}) ranked WHERE true {order} "
            f"ON CONFLICT (item_id) DO UPDATE SET {_UPDATE}"
        ),
        params,
    ).rowcount
    return written


def _mark_ranked(
    connection: Any,
    pack: Pack,
    moment: datetime,
    weight: float,
    *,
    full_rerank: bool,
    changed: bool,
    as_of: datetime | None = None,
) -> None:
    values: dict[str, Any] = dict(
        dirty=full_rerank or changed,
        full_rerank=full_rerank,
        rules_version=pack.version,
        ranked_day=clock.to_local(moment).date(),
        position_weight=weight,
    )
    if as_of is not None:
        values["as_of"] = as_of
    connection.execute(update(_rank_state).where(_rank_state.c.id == 1).values(**values))


def _queue_index_rebuilt(connection: Any) -> AbstractContextManager[None]:
    """The queue index set aside for a bulk write (``dialect.index_set_aside``)."""
    index = next(i for i in _ranks.indexes if i.name == "ix_rank_queue_key")
    return dialect.index_set_aside(connection, index)


def _store_harm(db: Database, harm: dict[int, float] | None, weight: float) -> None:
    """Write harm scores, and the sort keys they move (when ``weight`` counts them)."""
    if not harm:
        return
    with db.engine.begin() as connection:
        scored = dialect.scratch_table(
            connection,
            "harm_in",
            Column("item_id", Integer, primary_key=True, autoincrement=False),
            Column("s", Float),
        )
        connection.execute(insert(scored), [{"item_id": k, "s": float(v)} for k, v in harm.items()])
        values: dict[str, Any] = {"harm_score": scored.c.s}
        if weight:
            values["queue_key"] = -(_ranks.c.score + weight * scored.c.s)
        statement = update(_ranks).where(_ranks.c.item_id == scored.c.item_id).values(**values)
        if weight and len(harm) > 10_000:
            with _queue_index_rebuilt(connection):
                connection.execute(statement)
        else:
            connection.execute(statement)


def clear_harm_scores(db: Database, *, model_weight: float = 0.0) -> None:
    """Forget the stored harm scores (the active model changed or was switched
    off without a re-rank): the queue must not show or order by, nor a new
    meeting's agenda copy, the scores of a model no longer in force."""
    with db.engine.begin() as connection:
        connection.execute(
            update(_ranks)
            .where(_ranks.c.harm_score.is_not(None))
            .values(harm_score=None, queue_key=-_ranks.c.score)
        )


# The harm models' table, named here rather than imported with the registry's
# models: whether one is active is asked before every re-rank, and the registry
# (two more mapped classes) cost a `rank` process ~6 ms to import.
_harm_models = table("harm_model", column("id"), column("active", Boolean))


def _model_active(db: Database) -> bool:
    """Whether a harm model is active. Importing the model code (scikit-learn)
    is slow, so callers import it only when one is."""
    with db.engine.connect() as connection:
        active = select(_harm_models.c.id).where(_harm_models.c.active.is_(True)).limit(1)
        return connection.scalar(active) is not None


def _harm_scores(
    db: Database, as_of: datetime, item_ids: list[int] | None = None
) -> dict[int, float] | None:
    """The active model's scores (of every item, or ``item_ids``), or None."""
    if not _model_active(db):
        return None
    from triage.harm.scoring import active_scores

    return active_scores(db, as_of=as_of, item_ids=item_ids)


def _order(weight: float) -> list[Any]:
    return [
        _ranks.c.bucket,
        (_ranks.c.score + weight * func.coalesce(_ranks.c.harm_score, 0.0)).desc(),
        _items.c.received_at,
        _items.c.intel_id,
    ]


# The columns a queue can be sorted by, by name: only these names reach the
# SQL, never the caller's text. "rank" is the rank order itself (descending:
# the last-ranked first).
SORT_KEYS: dict[str, Any] = {
    "rank": None,
    "bucket": _ranks.c.bucket,
    "score": _ranks.c.score,
    "age_days": _ranks.c.age_days,
    "received_at": _items.c.received_at,
    "intel_id": _items.c.intel_id,
    "region": _items.c.region,
    "team": _items.c.team,
    "status": _items.c.status,
    "carry_over_count": _items.c.carry_over_count,
    "harm_score": _ranks.c.harm_score,
}


class QueueFilter(TypedDict, total=False):
    """What picks and orders a queue: the arguments of ``queue_ids`` and ``queue_ranks``.

    Without ``statuses`` only open items are listed, unless ``include_decided``.
    ``order_by`` (one of ``SORT_KEYS``) sorts by that column instead, ties in
    rank order; ``descending`` reverses the column, not the ties.
    """

    region: str | None
    team: str | None
    buckets: Sequence[int] | None
    statuses: Sequence[str] | None
    max_age_days: int | None
    text: str | None
    include_decided: bool
    order_by: str | None
    descending: bool
    limit: int | None
    model_weight: float  # the harm score's weight in the order (the user's setting)


def queue_ids(session: Connection | Session, **queue: Unpack[QueueFilter]) -> list[int]:
    """Item ids of a queue in rank order (filtering and sorting in SQL; see ``QueueFilter``)."""
    query, _rank = _queue_query(session, **queue)
    return list(session.scalars(query))


def queue_ranks(
    session: Connection | Session, **queue: Unpack[QueueFilter]
) -> list[tuple[int, int]]:
    """``(item id, rank)`` pairs of a queue in the order ``queue_ids`` gives for
    the same arguments; the rank is the item's place in the filtered queue in
    rank order (1 = work first), whatever column the queue is sorted by."""
    query, rank = _queue_query(session, **queue)
    pairs: Sequence[tuple[int, int]] = session.execute(query.add_columns(rank)).all()
    return [(item_id, position) for item_id, position in pairs]


def _queue_query(
    session: Connection | Session,
    *,
    region: str | None = None,
    team: str | None = None,
    buckets: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
    max_age_days: int | None = None,
    text: str | None = None,
    include_decided: bool = False,
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    model_weight: float = 0.0,
) -> tuple[Any, Any]:
    """The ids query of a queue, and its rank in the filtered queue as a window column."""
    if order_by is not None and order_by not in SORT_KEYS:
        raise ValueError(f"cannot sort the queue by {order_by!r}")
    if order_by == "rank" and not descending:
        order_by = None  # the rank order itself: keep the fast walk below
    weight = model_weight
    # The stored sort keys count the harm score with the weight last ranked with.
    positioned = (
        session.scalar(select(_rank_state.c.position_weight).where(_rank_state.c.id == 1)) == weight
    )
    search = text.strip() if text else ""
    searching = bool(search)
    # Open items are most of any queue, so walking the position index in queue
    # order and stopping at the page beats sorting every match (1,000,000
    # items: 1 ms against 0.5 s). The item-side filters are wrapped so that
    # SQLite does not drive the query from their indexes instead. A search, a
    # decided-only list or a sort by a column matches few rows or sorts every
    # one of them anyway: SQLite's own plan suits those.
    walk = (
        positioned and order_by is None and not searching and (not statuses or "open" in statuses)
    )

    def item(column: SQLColumnExpression[Any]) -> SQLColumnExpression[Any]:
        return column.op("||")("") if walk else column

    def scanned(column: SQLColumnExpression[Any]) -> SQLColumnExpression[Any]:
        # Sorting by a column reads every match anyway: scanning the tables
        # and sorting beats hopping through the position index from a
        # bucket to its rows (1,000,000 items: ~0.5 s against ~2 s).
        return column + 0 if order_by is not None else column

    query = select(_ranks.c.item_id).join(_items, _items.c.id == _ranks.c.item_id)
    if region:
        query = query.where(item(_items.c.region) == region)
    if team:
        query = query.where(item(_items.c.team) == team)
    if buckets:
        query = query.where(scanned(_ranks.c.bucket).in_(sorted(buckets)))
    if statuses:
        query = query.where(item(_items.c.status).in_(list(statuses)))
    elif not include_decided:
        query = query.where(item(_items.c.status) == "open")
    if max_age_days is not None:
        query = query.where(_ranks.c.age_days <= max_age_days)
    if searching:
        pattern = f"%{search}%"
        query = query.where(
            or_(
                _items.c.intel_id.ilike(pattern),
                _items.c.summary.ilike(pattern),
                _items.c.business_name.ilike(pattern),
                _items.c.postcode.ilike(pattern),
                _items.c.subject_ref.ilike(pattern),
            )
        )
    if positioned:
        # The stored key is the order's score term, so the index on (bucket,
        # queue_key) gives the order (ties sorted as they come) and serves a
        # bucket filter as well.
        rank_order = [
            _ranks.c.bucket,
            _ranks.c.queue_key,
            _items.c.received_at,
            _items.c.intel_id,
        ]
    else:  # the model weight changed since the last refresh: sort as the queue says
        rank_order = _order(weight)
    if order_by == "rank":  # descending: the whole rank order reversed
        query = query.order_by(*(_reversed(term) for term in rank_order))
    elif order_by is not None:
        sort_column = SORT_KEYS[order_by]
        # Blanks last either way, as a spreadsheet puts them.
        sort_term = sort_column.desc() if descending else sort_column.asc()
        query = query.order_by(sort_term.nulls_last(), *rank_order)
    else:
        query = query.order_by(*rank_order)
    if limit is not None:
        query = query.limit(limit)
    # The rank counts every match, so for the same reason it is numbered
    # after a sort, not along the index (1,000,000 items: 0.8 s against 3.8 s).
    window_order = [_ranks.c.bucket + 0, *rank_order[1:]] if positioned else rank_order
    return query, func.row_number().over(order_by=window_order)


def _reversed(term: Any) -> Any:
    """``term`` sorted the other way (``_order`` mixes ascending and descending terms)."""
    if isinstance(term, UnaryExpression) and term.modifier is operators.desc_op:
        return term.element.asc()
    return term.desc()


_ROW_COLUMNS = (
    _items.c.id.label("item_id"),
    _items.c.intel_id,
    _items.c.received_at,
    _items.c.region,
    _items.c.team,
    _items.c.sector,
    _items.c.allegation,
    _items.c.business_name,
    _items.c.upstream_bucket,
    _items.c.status,
    _items.c.carry_over_count,
    _items.c.rechecked_at,
    _items.c.em_case_id,
    _items.c.summary,
)


def _display(row: Any, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "item_id": row.item_id,
        "intel_id": row.intel_id,
        "bucket": row.bucket,
        "upstream_bucket": row.upstream_bucket,
        "bucket_rule": row.bucket_rule,
        "score": round(float(row.score), 3),
        "region": row.region,
        "team": row.team,
        "received_at": row.received_at,
        "age_days": row.age_days,
        "flags": vocab.split_list(row.flags),
        "stale": bool(row.stale),
        "harm_score": None if row.harm_score is None else float(row.harm_score),
        "status": row.status,
        "carry_over_count": row.carry_over_count,
        "sector": row.sector,
        "allegation": row.allegation,
        "business_name": row.business_name,
        "em_case_id": row.em_case_id,
        "summary": row.summary,
        "rules_version": row.rules_version,
        "as_of": row.as_of,
    }


def rows(
    session: Connection | Session, ids: Sequence[int], *, first_rank: int = 1
) -> list[dict[str, Any]]:
    """Display rows for ``ids`` in the order given; ``rank`` counts from ``first_rank``."""
    found: dict[int, Any] = {}
    ids = list(ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        query = (
            select(
                *_ROW_COLUMNS,
                _ranks.c.bucket,
                _ranks.c.bucket_rule,
                _ranks.c.score,
                _ranks.c.flags,
                _ranks.c.stale,
                _ranks.c.age_days,
                _ranks.c.harm_score,
                _ranks.c.rules_version,
                _ranks.c.as_of,
            )
            .join(_ranks, _ranks.c.item_id == _items.c.id)
            .where(_items.c.id.in_(chunk))
        )
        found.update((row.item_id, row) for row in session.execute(query))
    return [
        _display(found[item_id], first_rank + n)
        for n, item_id in enumerate(ids)
        if item_id in found
    ]


def agenda(
    session: Session,
    *,
    region: str | None,
    team: str | None = None,
    capacity: int,
    as_of: datetime | None = None,
    pack: Pack | None = None,
    limit: int | None = None,
    model_weight: float = 0.0,
) -> list[dict[str, Any]]:
    """The open items of a region (or team) ranked as of ``as_of``; ``fits`` marks
    the first ``capacity`` (the "fits this week" line). ``limit`` keeps only the
    first rows (SQLite's top-N sort, for big regions).

    Ranked afresh at ``as_of`` with ``pack`` (default: the pack in force), so
    a past meeting's agenda is reproduced: with ``as_of`` given, an item is
    open if it had been received by then and had no accept or reject decision
    at a meeting before that day.
    """
    pack = pack or pack_in_force()
    moment = as_of or clock.now()
    where = ["i.received_at <= :as_of"]
    params: dict[str, Any] = {}
    if region:  # None: every region (the CLI's past rankings)
        where.append("i.region = :region")
        params["region"] = region
    if team:
        where.append("i.team = :team")
        params["team"] = team
    if as_of is None:
        where.append("i.status = 'open'")
    else:
        where.append(
            "NOT EXISTS (SELECT 1 FROM tasking_outcome o WHERE o.item_id = i.id "
            "AND o.decision IN ('accepted', 'rejected') AND o.meeting_date < :day)"
        )
        # Closed (a bridge item back in contact) by then: off the agenda too.
        where.append("(i.closed_at IS NULL OR i.closed_at > :as_of)")
        params["day"] = clock.to_local(moment).date().isoformat()
    compiled = compile_pack(
        pack, moment, where=" AND ".join(where), postgres=dialect.is_postgres(session)
    )
    params.update(compiled.params, weight=model_weight)
    names = ", ".join(f"i.{c.key}" for c in _ROW_COLUMNS if c.key != "item_id")
    sql = (
        f"SELECT c.*, {names}, r.harm_score FROM ({compiled.sql}) c "
        "JOIN intel_item i ON i.id = c.item_id LEFT JOIN intel_rank r ON r.item_id = c.item_id "
        "ORDER BY c.bucket, c.score + :weight * coalesce(r.harm_score, 0.0) DESC, "
        "i.received_at, i.intel_id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    prepare(session.connection(), compiled)
    result = session.connection().execute(text(sql), params)
    out = []
    for n, row in enumerate(result.mappings(), 1):
        values = dict(row)
        values["received_at"] = _datetime(values["received_at"])
        values["rechecked_at"] = _datetime(values["rechecked_at"])
        values.update(rules_version=pack.version, as_of=moment)
        shown = _display(_Row(values), n)
        shown["fits"] = n <= capacity
        out.append(shown)
    return out


class _Row:
    """Attribute access over a dict, so raw SQL rows share ``_display``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def explain(
    db: Database, item_id: int, *, as_of: datetime | None = None, pack: Pack | None = None
) -> dict[str, Any]:
    """Why one item is where it is: every rule, its inputs and result, the
    points, the bucket and "why not one bucket higher" (``triage.rules.trace``).

    Without ``as_of`` it explains the stored rank (at the instant it was
    ranked), so the explanation matches the queue; ``stored.same_as_trace``
    says whether it does (False when the pack has changed since).
    """
    # The trace reads the item through its model: imported to explain only.
    from triage.rules import trace

    pack = pack or pack_in_force()
    with db.transaction() as session:
        stored = session.execute(select(_ranks).where(_ranks.c.item_id == item_id)).one_or_none()
        moment = as_of or (stored.as_of if stored is not None else clock.now())
        found = trace.explain_item(session, pack, item_id, moment)
        if stored is not None:
            found["stored"] = {
                "bucket": stored.bucket,
                "score": stored.score,
                "rules_version": stored.rules_version,
                "as_of": stored.as_of,
                "harm_score": stored.harm_score,
                "same_as_trace": stored.rules_version == pack.version
                and stored.as_of == moment
                and stored.bucket == found["bucket"]
                and abs(stored.score - found["score"]) < 1e-9,
            }
    found["harm_model"] = _harm_explanation(db, item_id, moment)
    return found


def _harm_explanation(db: Database, item_id: int, as_of: datetime) -> dict[str, Any] | None:
    """The active harm model's score, suggestion and top reasons for one item, or None."""
    if not _model_active(db):
        return None
    from triage.harm.scoring import explain_items

    return explain_items(db, [item_id], as_of=as_of).get(item_id)


def item_id_for(session: Connection | Session, reference: str) -> int | None:
    """The database id of an item given its upstream ``intel_id`` (or its id)."""
    found = session.scalar(select(_items.c.id).where(_items.c.intel_id == reference))
    if found is None and reference.isdigit():
        found = session.scalar(select(_items.c.id).where(_items.c.id == int(reference)))
    return found
