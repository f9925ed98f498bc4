"""The controlled vocabularies of the interchange formats (shared/formats.md).

One place for every enumerated value, used by the schema's CHECK constraints,
the importer's validation and the UI's filters.
"""

from __future__ import annotations

IMPORT_KINDS = (
    "intel",
    "em-cases",
    "em-events",
    "outcomes",
    "service-levels",
    "process-issues",
)
# The extract kinds before issue 19.2 (migration 0013 widens the CHECK).
IMPORT_KINDS_0001 = ("intel", "em-cases", "em-events", "outcomes")

SOURCE_TYPES = ("public", "police", "partner", "internal", "other")
WHEREABOUTS = ("known", "last_known", "unknown")
ALLEGATIONS = (
    "illegal_working",
    "overstayer",
    "clandestine_entry",
    "sham_marriage",
    "document_fraud",
    "fno",
    "modern_slavery",
    "other",
)
HARM_FLAGS = (
    "weapon",
    "fno",
    "violence",
    "exploitation",
    "child_at_risk",
    "vulnerable_adult",
    "organised_crime",
    "drugs",
)
# closed: withdrawn from tasking without a decision (an EM bridge item whose
# case is back in contact); closed_at and closed_reason say when and why.
ITEM_STATUSES = ("open", "accepted", "rejected", "closed")

DECISIONS = ("accepted", "rejected", "not_discussed")
# Reason codes for decisions (formats.md §4); labels and meeting keys live in
# the rule pack (rules/intel/reasons.toml).
REASON_CODES = (
    "insufficient_detail",
    "stale",
    "out_of_area",
    "duplicate",
    "no_capacity",
    "not_workable",
    "referred_elsewhere",
    "other",
)
RESULTS = ("no_trace", "encountered_no_action", "arrest", "removal", "referral", "other")

HARM_LEVELS = ("very_high", "high", "medium", "low")
DEPORTATION_CATEGORIES = ("standard", "dwa", "do_breach", "eea")
BAIL_TYPES = ("ij", "sos")
HELD_AT = ("prison", "irc", "community")
DEVICES = ("fitted", "non_fitted", "none")
EM_STATUSES = ("awaiting_fit", "active", "suspended", "ceased")
# Where getting a device on a person stands [004 Fig 5]; Figure 5 counts the
# first three for people awaiting a device in the community.
INDUCTION_STATUSES = ("not_attempted_pending", "arranged", "attempted_unsuccessful", "fitted")
# EM process issues the Hub should collate [004 ¶5.25, ¶5.71-5.73]: referrals
# from FNO RC that were wrong or incomplete, requests the supplier failed or
# never confirmed, and equipment faults.
PROCESS_ISSUE_KINDS = (
    "incorrect_referral",
    "supplier_failed_request",
    "supplier_no_confirmation",
    "equipment_fault",
    "other",
)
VULNERABILITIES = ("medical", "mental_health", "trafficking_victim", "age", "disability", "other")

# The 16 breach types of the EM report plus partial curfew, then case events.
BREACH_TYPES = (
    "battery",
    "absence_15min",
    "full_curfew_missed",
    "partial_curfew_missed",
    "interference_pid",
    "not_available_for_installation",
    "strap_tamper",
    "inability_to_monitor",
    "hmu_interference",
    "ac_power_loss",
    "monitor_movement",
    "moved_without_variation",
    "abusive_behaviour",
    "negative_ram",
    "unsuccessful_induction_visit",
    "failed_enrolment",
    "location_breach",
)
CASE_EVENT_TYPES = ("representation_received", "pap_received", "jr_lodged", "contact_made")
EVENT_TYPES = BREACH_TYPES + CASE_EVENT_TYPES


def join_list(values: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """Store a list as ';a;b;' (sorted, de-duplicated) or None when empty."""
    unique = sorted(set(values))
    return f";{';'.join(unique)};" if unique else None


def split_list(stored: str | None) -> list[str]:
    return [part for part in (stored or "").split(";") if part]
