"""IPIC-style device recommendation: advice, never the decision.

From harm level, sentence length, breach history and vulnerability [004
¶5.30], following the intended three-pronged approach [004 ¶5.51]: lowest
harm with high compliance -> no device (exemption from EM); medium harm
and/or low compliance -> a non-fitted device; highest harm and/or lowest
compliance -> a fitted device. When the pack says non-fitted devices are not
available the tool never recommends one: it recommends a fitted device and
flags the case for a human. The caseworker's decision and reason are stored
separately (``decide``) and differences are reported as overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage import clock, vocab
from triage.em.escalation import counted_breaches
from triage.em.models import DEVICES, EmRecommendation
from triage.em.pack import BANDS, EmPack, default_pack, harm_tier
from triage.store import audit
from triage.store.db import Database
from triage.store.models import EmCase


@dataclass
class Recommendation:
    em: bool
    device: str
    minimum_months: int | None
    harm_band: str
    compliance: str
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict[str, Any])

    def as_json(self) -> dict[str, Any]:
        return {
            "em": self.em,
            "outcome": "em" if self.em else "exemption",
            "device": self.device,
            "minimum_months": self.minimum_months,
            "harm_band": self.harm_band,
            "compliance": self.compliance,
            "flags": list(self.flags),
            "reasons": list(self.reasons),
            "inputs": dict(self.inputs),
            "advisory": True,
        }


def compliance_level(breaches: int, pack: EmPack) -> str:
    if breaches <= pack.high_compliance_max:
        return "high"
    if breaches >= pack.lowest_compliance_min:
        return "lowest"
    return "low"


def recommend(
    *,
    harm_level: str | None,
    deportation_category: str | None,
    sentence_months: int | None,
    breaches: int,
    vulnerabilities: list[str],
    pack: EmPack,
) -> Recommendation:
    """The three-pronged recommendation for one case (pure)."""
    flags: list[str] = []
    reasons: list[str] = []
    tier = harm_tier(harm_level, deportation_category)
    inputs = {
        "harm_level": harm_level,
        "deportation_category": deportation_category,
        "harm_tier": tier,
        "sentence_months": sentence_months,
        "counted_breaches": breaches,
        "vulnerabilities": vulnerabilities,
        "non_fitted_available": pack.non_fitted_available,
    }
    if tier is None:
        # Not evaluated: without a harm level the advice rests on the other
        # inputs only, so a human must look.
        flags.append("needs_human_review")
        reasons.append(
            "harm level and deportation category unknown: harm not evaluated (low assumed)"
        )
        band_index = 0
    else:
        band_index = BANDS.index(pack.harm_band[tier])
        reasons.append(f"harm tier {tier} -> {BANDS[band_index]} harm")
    if sentence_months is None:
        reasons.append("sentence length unknown: not evaluated")
    elif sentence_months >= pack.long_sentence_months and band_index < len(BANDS) - 1:
        band_index += 1
        reasons.append(
            f"sentence {sentence_months} months >= {pack.long_sentence_months}: "
            f"harm raised to {BANDS[band_index]}"
        )
    band = BANDS[band_index]
    compliance = compliance_level(breaches, pack)
    reasons.append(f"{breaches} counted breach(es) -> {compliance} compliance")

    if band == "high" or compliance == "lowest":
        device = "fitted"
        reasons.append("highest harm and/or lowest compliance -> fitted device")
    elif band == "medium" or compliance == "low":
        device = "non_fitted"
        reasons.append("medium harm and/or low compliance -> non-fitted device")
    else:
        device = "none"
        reasons.append("lowest harm and high compliance -> no device (exemption)")

    unsuitable = sorted(set(vulnerabilities) & set(pack.fitted_unsuitable))
    if unsuitable and device == "fitted":
        flags.append("needs_human_review")
        reasons.append(
            f"vulnerabilities {', '.join(unsuitable)} may make a fitted device unsuitable"
        )
        if pack.non_fitted_available and band != "high":
            device = "non_fitted"
            reasons.append("non-fitted device offered instead because of the vulnerability")
    elif vulnerabilities:
        flags.append("vulnerability")
        reasons.append(
            f"vulnerabilities recorded ({', '.join(sorted(vulnerabilities))}): caseworker to weigh"
        )

    if device == "non_fitted" and not pack.non_fitted_available:
        device = "fitted"
        flags.append("needs_human_review")
        flags.append("non_fitted_unavailable")
        reasons.append(
            "non-fitted devices are not available: fitted device instead, a human must review"
        )

    em = device != "none"
    minimum = pack.minimum_months[band] if em else None
    if em:
        reasons.append(f"minimum period {minimum} months for {band} harm")
    return Recommendation(
        em=em,
        device=device,
        minimum_months=minimum,
        harm_band=band,
        compliance=compliance,
        flags=sorted(set(flags)),
        reasons=reasons,
        inputs=inputs,
    )


def recommend_case(session: Session, case_id: str, pack: EmPack | None = None) -> Recommendation:
    """Recommendation for a stored case from its fields and breach history."""
    pack = pack or default_pack()
    case = session.execute(select(EmCase).where(EmCase.case_id == case_id)).scalar_one_or_none()
    if case is None:
        raise ValueError(f"no EM case {case_id!r}")
    return recommend_stored(case, counted_breaches(session, pack, [case_id]).get(case_id, 0), pack)


def recommend_stored(case: EmCase, breaches: int, pack: EmPack) -> Recommendation:
    """Recommendation for a case row already read, with its counted breaches."""
    return recommend(
        harm_level=case.harm_level,
        deportation_category=case.deportation_category,
        sentence_months=case.sentence_months,
        breaches=breaches,
        vulnerabilities=vocab.split_list(case.vulnerabilities),
        pack=pack,
    )


def record_recommendation(
    db: Database, case_id: str, *, pack: EmPack | None = None, who: str = "triage (recommendation)"
) -> int:
    """Store the current advice for a case; returns its id."""
    pack = pack or default_pack()
    with db.transaction() as session:
        rec = recommend_case(session, case_id, pack)
        row = EmRecommendation(
            case_id=case_id,
            made_at=clock.now(),
            rules_version=pack.version,
            em=rec.em,
            device=rec.device,
            minimum_months=rec.minimum_months,
            flags=vocab.join_list(rec.flags),
            explanation=rec.as_json(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session, "em.recommend", "em_case", case_id, "device", None, rec.device, who=who
        )
        return row.id


def decide(
    db: Database,
    recommendation_id: int,
    *,
    em: bool,
    device: str,
    reason: str,
    who: str,
    minimum_months: int | None = None,
) -> bool:
    """Record the caseworker's decision on a recommendation; True if it overrides."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if not reason or not reason.strip():
        raise ValueError("a decision needs a reason")
    if not em and device != "none":
        raise ValueError("an exemption from EM cannot have a device")
    if em and device == "none":
        raise ValueError("a decision for EM needs a device (fitted or non_fitted)")
    with db.transaction() as session:
        row = session.get(EmRecommendation, recommendation_id)
        if row is None:
            raise ValueError(f"no recommendation {recommendation_id}")
        if row.decided_at is not None:
            raise ValueError(
                f"recommendation {recommendation_id} was already decided by {row.decided_by}"
            )
        override = (
            em != row.em
            or device != row.device
            or (minimum_months is not None and minimum_months != row.minimum_months)
        )
        row.decided_em, row.decided_device, row.decided_months = em, device, minimum_months
        row.decision_reason, row.decided_by, row.decided_at = reason.strip(), who, clock.now()
        row.overridden = override
        audit.record(
            session, "em.decide", "em_case", row.case_id, "device", row.device, device, who=who
        )
        if override:
            audit.record(
                session,
                "em.override",
                "em_case",
                row.case_id,
                "decision_reason",
                None,
                reason,
                who=who,
            )
    return override


def overrides(session: Session, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Decisions that differ from the advice, newest first, with the reasons."""
    query = select(EmRecommendation).where(EmRecommendation.overridden.is_(True))
    if since is not None:
        query = query.where(EmRecommendation.decided_at >= since)
    rows = session.execute(query.order_by(EmRecommendation.decided_at.desc())).scalars()
    return [
        {
            "recommendation_id": r.id,
            "case_id": r.case_id,
            "recommended": {"em": r.em, "device": r.device, "minimum_months": r.minimum_months},
            "decided": {
                "em": r.decided_em,
                "device": r.decided_device,
                "minimum_months": r.decided_months,
            },
            "reason": r.decision_reason,
            "decided_by": r.decided_by,
            "decided_at": r.decided_at,
        }
        for r in rows
    ]
