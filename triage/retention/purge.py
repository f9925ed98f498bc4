"""Purging by the retention policy: personal data past its time removed for good.

``plan`` counts what the policy would remove (``triage purge --dry-run``);
``purge`` removes it in one transaction, records the counts (never the data)
in the audit, then rewrites the file so nothing removed stays readable in it
(``PRAGMA secure_delete`` zeroes freed space; VACUUM rebuilds the file; the
WAL is checkpointed and truncated).

Items and cases are *minimised*, not deleted: their identifying and
free-text fields are emptied and their reference replaced, while the fields
the statistics count stay, so the aggregate statistics the policy keeps are
unchanged by a purge (tests/users/test_purge.py compares them); a QA review
of their decisions keeps its score and loses its reviewer's words. The audit
log's copies of their old and new values keep only a digest
(``audit.redacted``), so the hash chain still verifies.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, text

from triage import clock, paths
from triage.em.deadlines import add_months
from triage.store import audit, dialect, item_values
from triage.store.db import Database
from triage.users.roles import Action, Actor, require

KINDS = ("intel", "em_cases", "quarantine")

# Emptied on a purged item or case: who it is about and anything written about them.
INTEL_PERSONAL = ("subject_ref", "postcode", "business_name", "summary", "extra")
CASE_PERSONAL = ("person_ref", "claimed_by")


class PolicyError(ValueError):
    """A retention policy file that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class Policy:
    intel_closed_months: int
    em_cases_ended_years: int
    quarantine_resolved_months: int

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        day = now.date()
        return {
            "intel": _midnight(add_months(day, -self.intel_closed_months)),
            "em_cases": _midnight(add_months(day, -12 * self.em_cases_ended_years)),
            "quarantine": _midnight(add_months(day, -self.quarantine_resolved_months)),
        }


def _midnight(day: Any) -> datetime:
    return datetime(day.year, day.month, day.day)


def default_policy_path() -> Path:
    return paths.bundled("rules", "retention.toml")


def load_policy(path: str | Path | None = None) -> Policy:
    source = Path(path) if path else default_policy_path()
    try:
        with open(source, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise PolicyError(f"{source}: cannot read it ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source}: not valid TOML ({error})") from None
    values = []
    for table, key in (
        ("intel", "closed_months"),
        ("em_cases", "ended_years"),
        ("quarantine", "resolved_months"),
    ):
        value = data.get(table, {}).get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PolicyError(f"{source}: [{table}] {key} must be a whole number of at least 1")
        values.append(value)
    return Policy(*values)


# The rows each kind removes. An item is closed when accepted or rejected;
# its closing date is its last decision or result. A case has ended when its
# EM has ceased; its end is its last event (or fitting, or bail grant).
_INTEL = (
    "FROM intel_item WHERE status IN ('accepted', 'rejected') "
    "AND intel_id NOT LIKE 'purged-%' AND received_at < :intel "
    "AND (SELECT max(coalesce(o.result_at, o.meeting_date)) FROM tasking_outcome o "
    "WHERE o.item_id = intel_item.id) < :intel_day"
)
# A purged case keeps its reference (other tables point to it) and is marked
# in ``extra``, which a purge empties.
_CASES = (
    "FROM em_case WHERE em_status = 'ceased' "
    "AND json_extract(coalesce(extra, '{}'), '$.purged') IS NULL "
    "AND coalesce((SELECT max(coalesce(e.ended_at, e.started_at)) FROM em_event e "
    "WHERE e.case_id = em_case.case_id), fitted_at, bail_granted_at, created_at) < :em_cases"
)
_QUARANTINE = "FROM quarantined_row WHERE status != 'open' AND resolved_at < :quarantine"


def _params(cutoffs: dict[str, datetime]) -> dict[str, str]:
    params = {k: clock.sql_timestamp(v) for k, v in cutoffs.items()}
    params["intel_day"] = cutoffs["intel"].date().isoformat()  # dates are stored as text days
    return params


def _counts(connection: Connection, cutoffs: dict[str, datetime]) -> dict[str, int]:
    params = _params(cutoffs)
    return {
        kind: int(connection.execute(text(f"SELECT count(*) {sql}"), params).scalar_one())
        for kind, sql in (("intel", _INTEL), ("em_cases", _CASES), ("quarantine", _QUARANTINE))
    }


def plan(db: Database, *, actor: Actor, policy: Policy | None = None) -> dict[str, int]:
    """How many of each kind the policy would purge now (nothing is changed)."""
    require(db, actor, Action.PURGE)
    cutoffs = (policy or load_policy()).cutoffs(clock.now())
    with db.engine.connect() as connection:
        return _counts(connection, cutoffs)


def purge(db: Database, *, actor: Actor, policy: Policy | None = None) -> dict[str, int]:
    """Purge what the policy says; returns the counts by kind (also audited)."""
    require(db, actor, Action.PURGE)
    db.backup("before-purge", rolling=True)  # a purge can be undone by a restore
    now = clock.now()
    cutoffs = (policy or load_policy()).cutoffs(now)
    params = _params(cutoffs)
    sqlite = not db.on_server  # a server's storage is its operators' (docs/team-server.md)
    with db.engine.connect() as connection:
        if sqlite:  # Freed pages and cells are overwritten with zeros, not left readable.
            connection.exec_driver_sql("PRAGMA secure_delete = ON")
            connection.commit()
        with connection.begin():
            counts = _counts(connection, cutoffs)
            _minimise_intel(connection, params)
            _minimise_cases(connection, params, now)
            connection.execute(text(f"DELETE {_QUARANTINE}"), params)
            audit.record(
                connection,
                "retention.purge",
                "retention",
                "policy",
                "counts",
                None,
                ", ".join(f"{kind}={n}" for kind, n in counts.items()),
                who=actor.name,
            )
        if sqlite:
            # Outside the transaction: rebuild the file and empty the WAL, so no
            # old page with the removed data is left in either.
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.commit()
    return counts


def _redact_audit(
    connection: Connection, entity: str, ids_sql: str, params: dict[str, str]
) -> None:
    """The audit's copies of a purged record's values keep only their digest.
    The append-only triggers are lifted for this one UPDATE, inside the purge's
    transaction, and put back before it commits."""
    dialect.drop_append_only_triggers(connection)
    connection.execute(
        text(
            "UPDATE audit_log SET old_value = triage_audit_redacted(old_value), "
            "new_value = triage_audit_redacted(new_value) "
            f"WHERE entity = :entity AND entity_id IN ({ids_sql})"
        ),
        dict(params, entity=entity),
    )
    dialect.create_append_only_triggers(connection)


def _minimise_intel(connection: Connection, params: dict[str, str]) -> None:
    ids = f"SELECT intel_id {_INTEL}"
    _redact_audit(connection, "intel_item", ids, params)
    # A re-import audits an outcome's changed cells (its extra ones too, which
    # the purge empties below) under the outcome: '<intel id>@<meeting date>'.
    day = dialect.date_text_sql(dialect.is_postgres(connection), "o.meeting_date")
    outcomes = (
        f"SELECT i.intel_id || '@' || {day} FROM tasking_outcome o "
        f"JOIN intel_item i ON i.id = o.item_id WHERE i.id IN (SELECT id {_INTEL})"
    )
    _redact_audit(connection, "tasking_outcome", outcomes, params)
    connection.execute(
        text(f"DELETE FROM meeting_step WHERE item_id IN (SELECT id {_INTEL})"), params
    )
    # Notes are written about the item's subject (never edited or deleted
    # otherwise): a purged item keeps none.
    connection.execute(text(f"DELETE FROM item_note WHERE item_id IN (SELECT id {_INTEL})"), params)
    connection.execute(
        text(
            "UPDATE tasking_outcome SET note = NULL, extra = NULL "
            f"WHERE item_id IN (SELECT id {_INTEL})"
        ),
        params,
    )
    _minimise_qa(connection, f"item_id IN (SELECT id {_INTEL})", params)
    connection.execute(
        text(
            "UPDATE qa_sample_decision SET subject = 'purged-' || item_id "
            f"WHERE item_id IN (SELECT id {_INTEL})"
        ),
        params,
    )
    emptied = ", ".join(f"{column} = NULL" for column in INTEL_PERSONAL)
    # The harm codes kept with the item code some of them (a business named).
    emptied += f", harm_codes = {item_values.harm_codes_emptied_sql(INTEL_PERSONAL)}"
    connection.execute(
        text(
            f"UPDATE intel_item SET {emptied}, intel_id = 'purged-' || id "
            f"WHERE id IN (SELECT id {_INTEL})"
        ),
        params,
    )


def _minimise_cases(connection: Connection, params: dict[str, str], now: datetime) -> None:
    ids = f"SELECT case_id {_CASES}"
    _redact_audit(connection, "em_case", ids, params)
    # A re-import audits an event's changed cells (its notes and extra ones,
    # which the purge empties below) under the event.
    events = f"SELECT event_id FROM em_event WHERE case_id IN ({ids})"
    _redact_audit(connection, "em_event", events, params)
    for table, columns in (
        ("em_event", "notes = NULL, extra = NULL"),
        ("em_review", "note = NULL"),
        ("em_recommendation", "decision_reason = NULL"),
        ("em_trail_request", "requester = 'purged', justification = NULL"),
    ):
        connection.execute(text(f"UPDATE {table} SET {columns} WHERE case_id IN ({ids})"), params)
    _minimise_qa(connection, f"kind != 'tasking' AND subject IN ({ids})", params)
    emptied = ", ".join(f"{column} = NULL" for column in CASE_PERSONAL)
    connection.execute(
        text(f"UPDATE em_case SET {emptied}, extra = :marked WHERE case_id IN ({ids})").bindparams(
            bindparam("marked", type_=JSON)
        ),
        dict(params, marked={"purged": now.date().isoformat()}),
    )


def _minimise_qa(connection: Connection, decisions: str, params: dict[str, str]) -> None:
    """QA reviews of a purged record's decisions keep their scores (the
    satisfactory rate stays right) but lose what the reviewer wrote."""
    sampled = f"SELECT id FROM qa_sample_decision WHERE {decisions}"
    connection.execute(
        text(
            "UPDATE qa_error SET note = NULL WHERE score_id IN "
            f"(SELECT id FROM qa_score WHERE sample_decision_id IN ({sampled}))"
        ),
        params,
    )
    connection.execute(
        text(f"UPDATE qa_score SET feedback = NULL WHERE sample_decision_id IN ({sampled})"),
        params,
    )


def cutoff_text(policy: Policy, now: datetime | None = None) -> dict[str, str]:
    """The cutoffs as UK local dates, for the dry run's report."""
    moment = now or clock.now()
    return {k: clock.to_local(v).date().isoformat() for k, v in policy.cutoffs(moment).items()}
