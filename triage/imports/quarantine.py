"""Reading the quarantine: the rows that could not be imported, for the
CLI's ``quarantine list`` / ``export`` and the app's quarantine panel (fixing
and discarding a row are ``importer.reimport_quarantined`` and
``importer.discard_quarantined``)."""

from __future__ import annotations

from sqlalchemy import select

from triage.store.db import Database
from triage.store.models import QuarantinedRow


def quarantined_rows(
    db: Database,
    *,
    include_resolved: bool = False,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[QuarantinedRow]:
    """Open quarantined rows (all, with ``include_resolved``), in the order they
    were quarantined, or the latest import's first (by line) with ``newest_first``."""
    query = select(QuarantinedRow)
    if not include_resolved:
        query = query.where(QuarantinedRow.status == "open")
    if newest_first:
        query = query.order_by(QuarantinedRow.batch_id.desc(), QuarantinedRow.line_no)
    else:
        query = query.order_by(QuarantinedRow.id)
    if limit is not None:
        query = query.limit(limit)
    with db.sessions() as session:
        return list(session.scalars(query))
