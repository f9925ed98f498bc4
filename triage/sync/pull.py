"""``sync pull``: copy a team's open queue and its region's EM caseload from a
server into a laptop database, recording what was pulled and the state the
server had it in.

The copy is built in a new file beside the target and only put in its place
once complete (the target is backed up first), so a failure part-way leaves
the laptop as it was. Pulled rows keep their server ids, and each is linked
(``sync_link``) so a push can tell them from rows made offline.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from triage import clock
from triage.harm.registry import ACCEPT, HarmModel, HarmModelFile, row_digest
from triage.intel import regions
from triage.jobs import Job, job_or_silent
from triage.store import audit
from triage.store.cipher import companion
from triage.store.db import Database, open_database
from triage.store.models import EmCase, IntelItem, TaskingOutcome
from triage.sync.models import SyncCopy, SyncLink, SyncOwner
from triage.sync.units import EM, INTEL, chunks, digest, states, table
from triage.users import Action, Actor, require
from triage.users.models import User

INSERT_CHUNK = 1000


class SyncError(Exception):
    """A sync that cannot be done as asked; the message says why (CLI exit 2)."""


@dataclass
class PullResult:
    origin: str
    target: Path
    server: str
    region: str
    team: str
    counts: dict[str, int] = field(default_factory=dict)
    server_pack: str | None = None
    laptop_pack: str | None = None
    model: str | None = None
    model_file: bool = False
    encrypted: bool = False
    replaced_backup: Path | None = None

    @property
    def pack_matches(self) -> bool | None:
        if self.server_pack is None or self.laptop_pack is None:
            return None
        return self.server_pack == self.laptop_pack


def server_name(db: Database) -> str:
    """How a server is shown: its address without the password, or its file."""
    return db.location


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of the whole server. PostgreSQL's default isolation
    gives each statement its own snapshot, so the pull asks for REPEATABLE
    READ; SQLite's read transaction under WAL is already one snapshot."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _rows(source: Connection, model: Any, *conditions: Any) -> list[dict[str, Any]]:
    t = table(model)
    found = [dict(row._mapping) for row in source.execute(select(t).where(*conditions))]
    if "batch_id" in t.c:  # the import batches stay on the server
        for row in found:
            row["batch_id"] = None
    return found


def _rows_in(
    source: Connection, model: Any, column: str, values: list[Any]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in chunks(values):
        found += _rows(source, model, table(model).c[column].in_(chunk))
    return found


def _insert(target: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in chunks(rows, INSERT_CHUNK):
        target.execute(insert(table(model)), list(chunk))


def _link(target: Connection, origin: str, model: Any, rows: list[dict[str, Any]]) -> None:
    name = table(model).name
    links = [
        {"origin": origin, "table_name": name, "local_id": r["id"], "server_id": r["id"],
         "pulled": True}
        for r in rows
    ]  # fmt: skip
    _insert(target, SyncLink, links)


def check_team(region: str, team: str) -> tuple[str, str]:
    code = regions.region_code(region)  # ValueError names an unknown region
    names = [t.name for t in regions.region_by_code(code).teams]
    if team not in names:
        raise SyncError(f"region {code} has no team {team!r} (teams: {', '.join(names)})")
    return code, team


def pull(
    server: Database,
    target: Path,
    *,
    region: str,
    team: str,
    actor: Actor,
    passphrase: str | None = None,
    discard: bool = False,
    job: Job | None = None,
) -> PullResult:
    """Copy ``region``/``team``'s open queue and the region's EM caseload from
    ``server`` into a new laptop database at ``target`` (encrypted with
    ``passphrase`` if given). A target that holds offline work not yet pushed
    is refused unless ``discard``; one that holds data but is not a laptop
    copy is always refused."""
    require(server, actor, Action.READ)
    job = job_or_silent(job)
    region, team = check_team(region, team)
    from triage.sync.push import pending  # push imports this module

    replaced = None
    if target.exists() and target.stat().st_size > 0:
        old = open_database(target, passphrase)
        try:
            waiting = pending(old)
            if waiting is None:
                if _holds_data(old):
                    raise SyncError(
                        f"{target} holds data and is not a laptop copy: pull into a new file (--to)"
                    )
            elif waiting.total and not discard:
                raise SyncError(
                    f"{target} holds offline work not yet pushed ({waiting.text()}): "
                    "push it first (triage sync push), or pull again with --discard"
                )
            replaced = old.backup("before-sync-pull")
        finally:
            old.close()
    staging = target.with_name(target.name + ".pulling")
    for leftover in (staging, companion(staging, "-wal"), companion(staging, "-shm")):
        leftover.unlink(missing_ok=True)
    origin = str(uuid.uuid4())
    result = PullResult(origin, target, server_name(server), region, team)
    laptop = open_database(staging, passphrase)
    try:
        result.encrypted = laptop.encrypted
        with snapshot(server.engine) as source, laptop.engine.begin() as copy:
            _copy(source, copy, result, actor, job)
        laptop.close()
        with server.transaction() as session:
            session.add(
                SyncCopy(
                    origin=origin, side="laptop", region=region, team=team,
                    server=str(target), pulled_at=clock.now(), pulled_by=actor.name,
                    pack_version=result.server_pack,
                )
            )  # fmt: skip
            audit.record(
                session, "sync.pull", "sync", origin,
                new=f"{region}/{team} to a laptop: " + _counts_text(result.counts),
                who=actor.name,
            )  # fmt: skip
        for beside in ("-wal", "-shm"):
            companion(target, beside).unlink(missing_ok=True)
        os.replace(staging, target)
    except BaseException:
        laptop.close()
        for leftover in (staging, companion(staging, "-wal"), companion(staging, "-shm")):
            leftover.unlink(missing_ok=True)
        raise
    result.replaced_backup = replaced
    job.progress(1.0, "pulled")
    return result


def _holds_data(db: Database) -> bool:
    with db.engine.connect() as connection:
        for model in (IntelItem, EmCase, TaskingOutcome):
            if connection.execute(select(func.count()).select_from(table(model))).scalar():
                return True
    return False


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _copy(source: Connection, copy: Connection, result: PullResult, actor: Actor, job: Job) -> None:
    from triage.em.models import EmEscalation, EmRecommendation, EmReview, EmTrailRequest
    from triage.intel.notes import ItemNote
    from triage.store.models import EmEvent, TaskingMeeting

    origin, counts = result.origin, result.counts
    job.progress(0.05, "reading the team's open queue")
    items = _rows(
        source, IntelItem, IntelItem.region == result.region, IntelItem.team == result.team,
        IntelItem.status == "open",
    )  # fmt: skip
    item_ids = [r["id"] for r in items]
    outcomes = _rows_in(source, TaskingOutcome, "item_id", item_ids)
    meeting_ids = sorted({r["meeting_id"] for r in outcomes if r["meeting_id"] is not None})
    meetings = _rows_in(source, TaskingMeeting, "id", meeting_ids)
    notes = _rows_in(source, ItemNote, "item_id", item_ids)
    job.progress(0.3, "reading the region's EM caseload")
    cases = _rows(
        source, EmCase, EmCase.region == result.region,
        (EmCase.em_status.is_(None)) | (EmCase.em_status != "ceased"),
    )  # fmt: skip
    case_ids = [r["case_id"] for r in cases]
    em_children = {
        model: _rows_in(source, model, "case_id", case_ids)
        for model in (EmEvent, EmReview, EmEscalation, EmRecommendation, EmTrailRequest)
    }
    job.check()
    job.progress(0.5, "writing the laptop copy")
    for model, rows in (
        (IntelItem, items), (TaskingMeeting, meetings), (TaskingOutcome, outcomes),
        (ItemNote, notes), (EmCase, cases), *em_children.items(),
    ):  # fmt: skip
        _insert(copy, model, rows)
        _link(copy, origin, model, rows)
    counts.update(
        items=len(items), outcomes=len(outcomes), meetings=len(meetings), notes=len(notes),
        em_cases=len(cases), em_events=len(em_children[EmEvent]),
    )  # fmt: skip
    # The server's users and roles, so the same people may do the same things offline.
    users = _rows(source, User)
    copy.execute(delete(table(User)))
    _insert(copy, User, users)
    counts["users"] = len(users)
    _copy_model(source, copy, result, actor)
    result.server_pack = _server_pack(source, result)
    result.laptop_pack = _laptop_pack()
    job.progress(0.8, "recording the server's state")
    owners = []
    for owner, keys in ((INTEL, [r["intel_id"] for r in items]), (EM, case_ids)):
        for key, state in states(source, owner, keys).items():
            owners.append({"kind": owner.kind, "key": key, "pulled_digest": digest(state)})
    _insert(copy, SyncOwner, owners)
    copy.execute(
        insert(table(SyncCopy)).values(
            origin=origin, side="server", region=result.region, team=result.team,
            server=result.server, pulled_at=clock.now(), pulled_by=actor.name,
            pack_version=result.server_pack,
        )
    )  # fmt: skip
    audit.record(
        copy, "sync.pull", "sync", origin,
        new=f"{result.region}/{result.team} from {result.server}: " + _counts_text(counts),
        who=actor.name,
    )  # fmt: skip


def _copy_model(source: Connection, copy: Connection, result: PullResult, actor: Actor) -> None:
    """The server's active harm model: its registry row, its file's stored
    bytes, and its acceptance in the laptop's audit (the bytes are verified
    against the row's hash before they are ever written out or loaded, so only
    the bytes the server accepted will run)."""
    found = _rows(source, HarmModel, table(HarmModel).c.active.is_(True))
    if not found:
        return
    row = found[0]
    _insert(copy, HarmModel, [row])
    model = HarmModel(**row)
    audit.record(
        copy, ACCEPT, "harm_model", row["id"], "trust", None,
        f"artefact={model.sha256} row={row_digest(model)}", who=actor.name,
    )  # fmt: skip
    result.model = row["id"]
    # Its bytes, written out on the laptop when first loaded (``scoring.load_model``).
    stored = _rows(source, HarmModelFile, table(HarmModelFile).c.model_id == row["id"])
    _insert(copy, HarmModelFile, stored)
    result.model_file = (
        bool(stored) and hashlib.sha256(stored[0]["content"]).hexdigest() == row["sha256"]
    )


def _server_pack(source: Connection, result: PullResult) -> str | None:
    from triage.intel.models import IntelRank

    rank, item = table(IntelRank), table(IntelItem)
    found = source.execute(
        select(rank.c.rules_version)
        .join(item, item.c.id == rank.c.item_id)
        .where(item.c.region == result.region, item.c.team == result.team)
        .order_by(rank.c.ranked_at.desc())
        .limit(1)
    ).scalar()
    return str(found) if found else None


def _laptop_pack() -> str | None:
    from triage.intel.ranking import pack_in_force
    from triage.rules import PackError

    try:
        return pack_in_force().version
    except PackError:
        return None
