"""EM refresh: the escalation ladder, the ICE bridge, then the intel ranking.

The one operation behind ``triage em refresh`` (and the CLI's EM views of
now) and the app's "Apply escalation ladder and ICE bridge": both steps are
idempotent, and when the bridge creates intelligence items the ranking is
brought up to date at once, so the new items stand in the ranked queue (and
the statistics' computed buckets) without waiting for the next ``rank intel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage import clock
from triage.em import bridge, escalation
from triage.em.pack import EmPack, default_pack
from triage.intel import ranking
from triage.jobs import Job, job_or_silent
from triage.store.db import Database


@dataclass(frozen=True)
class EmRefresh:
    escalation: escalation.EscalationRun
    bridge: bridge.BridgeRun
    ranking: ranking.RankRun | None  # None when no item was created


def refresh_em(
    db: Database,
    *,
    model_weight: float,
    as_of: datetime | None = None,
    pack: EmPack | None = None,
    job: Job | None = None,
) -> EmRefresh:
    """Apply the ladder and the bridge as of ``as_of`` (default now), then re-rank
    the intelligence queue if the bridge created items, with the harm-score
    ``model_weight`` the front end read (as every other re-rank does)."""
    job = job_or_silent(job)
    pack = pack or default_pack()
    as_of = as_of or clock.now()
    job.progress(0.0, "applying the escalation ladder")
    ladder = escalation.apply_escalations(db, pack=pack, as_of=as_of)
    job.check(partial=ladder)
    job.progress(0.2, "applying the ICE bridge")
    linked = bridge.sync_bridge(db, as_of=as_of, pack=pack)
    ranked = None
    if linked.created:
        job.check(partial=(ladder, linked))
        job.progress(0.4, "ranking the intelligence queue")
        ranked = ranking.refresh(db, model_weight=model_weight)
    job.progress(1.0, "EM refresh done")
    return EmRefresh(ladder, linked, ranked)
