"""IPIC-style device recommendation: advice, never the decision.

EM is the statutory default for everyone on immigration bail subject to
deportation [004 ¶1.3]; an exemption only where EM is impractical or contrary
to Convention rights, which is a human's judgement. So a case released under
the duty (bail granted on or after it came into force) is recommended a fitted
device, and a case whose harm was never assessed is "not evaluated: needs
human review" with EM kept, never an exemption.

The intended three-pronged approach [004 ¶5.51] applies only to the cohort
that paragraph names, those already on bail in the community when the duty
began [004 ¶1.4]: from harm level, sentence length, breach history and
vulnerability [004 ¶5.30], lowest harm with high compliance -> no device
(exemption from EM); medium harm and/or low compliance -> a non-fitted
device; highest harm and/or lowest compliance -> a fitted device. When the
pack says non-fitted devices are not available the tool never recommends
one: it recommends a fitted device and flags the case for a human. The
caseworker's decision and reason are stored separately (``decide``) and
differences are reported as overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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
from triage.users import Action, Actor, require

# The duty to electronically monitor came into force on 31 August 2021 for
# releases in England and Wales [004 ¶1.3]; those already on bail then are the
# existing-bail cohort the three-pronged rule was written for [004 ¶1.4, ¶5.51].
# Law, not policy to tune, so a constant rather than a rule-pack value.
EM_DUTY_IN_FORCE = date(2021, 8, 31)
NOT_EVALUATED = "not evaluated"


def existing_bail_cohort(bail_granted_at: datetime | None) -> bool | None:
    """True when bail predates the EM duty (the ¶5.51 cohort); None when unknown."""
    if bail_granted_at is None:
        return None
    return bail_granted_at.date() < EM_DUTY_IN_FORCE


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

    @property
    def outcome(self) -> str:
        """em, exemption, or not_evaluated (no harm level: a human decides)."""
        if self.harm_band == NOT_EVALUATED:
            return "not_evaluated"
        return "em" if self.em else "exemption"

    def as_json(self) -> dict[str, Any]:
        return {
            "em": self.em,
            "outcome": self.outcome,
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
    existing_cohort: bool | None,
) -> Recommendation:
    """The recommendation for one case (pure).

    ``existing_cohort`` says whether the case was already on bail when the EM
    duty began (``existing_bail_cohort``); None when the bail date is unknown.
    """
    flags: list[str] = []
    reasons: list[str] = []
    tier = harm_tier(harm_level, deportation_category)
    inputs: dict[str, Any] = {
        "harm_level": harm_level,
        "deportation_category": deportation_category,
        "harm_tier": tier,
        "sentence_months": sentence_months,
        "counted_breaches": breaches,
        "vulnerabilities": vulnerabilities,
        "non_fitted_available": pack.non_fitted_available,
        "existing_bail_cohort": existing_cohort,
    }
    if tier is None:
        # Without a harm level nothing can weigh an exemption: EM stays, as the
        # statute's default, and a human must assess the harm.
        reasons.append(
            "harm level and deportation category unknown: not evaluated, needs human review;"
            " EM is the statutory default [004 ¶1.3]"
        )
        return _statutory_default(NOT_EVALUATED, flags, reasons, inputs, vulnerabilities, pack)
    if existing_cohort is not True:
        if existing_cohort is None:
            flags.append("needs_human_review")
            reasons.append("bail date unknown: cannot tell whether the existing-bail cohort")
        else:
            reasons.append(
                f"bail granted on or after {EM_DUTY_IN_FORCE:%d %B %Y}: the EM duty applies"
                " [004 ¶1.3]"
            )
        reasons.append(
            "the three-way rule (no device / non-fitted / fitted) is for the existing-bail"
            " cohort only [004 ¶5.51]: fitted device unless a caseworker finds EM impractical"
            " or contrary to Convention rights"
        )
        band = pack.harm_band[tier]
        reasons.append(f"harm tier {tier} -> {band} harm")
        return _statutory_default(band, flags, reasons, inputs, vulnerabilities, pack)
    reasons.append("on bail before the EM duty began: the three-way rule applies [004 ¶5.51]")
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


def _statutory_default(
    band: str,
    flags: list[str],
    reasons: list[str],
    inputs: dict[str, Any],
    vulnerabilities: list[str],
    pack: EmPack,
) -> Recommendation:
    """A fitted device under the statutory duty, vulnerabilities sent to a human."""
    if band == NOT_EVALUATED:
        flags.append("needs_human_review")
    unsuitable = sorted(set(vulnerabilities) & set(pack.fitted_unsuitable))
    if unsuitable:
        flags.append("needs_human_review")
        reasons.append(
            f"vulnerabilities {', '.join(unsuitable)} may make a fitted device unsuitable"
        )
    elif vulnerabilities:
        flags.append("vulnerability")
        reasons.append(
            f"vulnerabilities recorded ({', '.join(sorted(vulnerabilities))}): caseworker to weigh"
        )
    minimum = pack.minimum_months.get(band)
    if minimum is not None:
        reasons.append(f"minimum period {minimum} months for {band} harm")
    return Recommendation(
        em=True,
        device="fitted",
        minimum_months=minimum,
        harm_band=band,
        compliance="not assessed",
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
        existing_cohort=existing_bail_cohort(case.bail_granted_at),
    )


def record_recommendation(
    db: Database, case_id: str, *, actor: Actor, pack: EmPack | None = None
) -> int:
    """Store the current advice for a case; returns its id."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
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
    actor: Actor,
    minimum_months: int | None = None,
) -> bool:
    """Record the caseworker's decision on a recommendation; True if it overrides."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
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
