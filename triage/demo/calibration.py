"""The demo's calibration: the published figures it reproduces, the bucket
contract its items follow, the learnable harm signal, and the arithmetic that
turns them into exact counts and weighted draws.

The figures come from ``shared/domain.md`` §2 (NAO Figure 9; EM Figures 1-3,
5, 6 and 14); the choices made around them are documented in
``docs/demo-data.md``. ``largest_remainder`` keeps every scaled count exact.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypedDict, TypeVar, overload

from triage.em.deadlines import add_months

T = TypeVar("T")

# --- Calibration tables (shared/domain.md §2) --------------------------------

#: NAO Figure 9 canonical integer counts: (region, group) -> accepted,
#: rejected, not discussed (latest decision per item).
FIG9: dict[tuple[str, str], tuple[int, int, int]] = {
    ("LSE", "high"): (302, 42, 121),
    ("LSE", "low"): (2616, 1744, 17441),
    ("NMWSW", "high"): (593, 84, 21),
    ("NMWSW", "low"): (2825, 941, 1772),
    ("SNI", "high"): (45, 23, 62),
    ("SNI", "low"): (365, 154, 292),
}
DEFAULT_INTEL = sum(sum(cell) for cell in FIG9.values())  # 29,443
DECISIONS = ("accepted", "rejected", "not_discussed")
FIG9_CELLS = [(region, group, decision) for (region, group) in FIG9 for decision in DECISIONS]

#: The intended bucket within each group (our choice; NAO gives only groups).
BUCKET_SPLIT = {"high": ((1, 0.25), (2, 0.15), (3, 0.30), (4, 0.30)), "low": ((5, 0.35), (6, 0.65))}

#: EM Figure 1 / Figure 5 / Figure 14 at the default size.
DEFAULT_EM = 1732
EM_STATUS_COUNTS = (("active", 1622), ("awaiting_fit", 81), ("suspended", 9), ("ceased", 20))
INDUCTION_COUNTS = (
    ("attempted_unsuccessful", 34),
    ("not_attempted_pending", 42),
    ("arranged", 5),
)
REVIEW_OVERDUE = 818  # of the 1,622 active cases
OUT_OF_CONTACT_SHARE = 0.03  # of active cases, 7 days or more

#: Figure 2 top ten (of 1,652 with a known nationality); 641 others; the 80
#: cases Figure 3 does not cover have none recorded (the report's own gap).
FIG2 = (
    ("ALB", 465),
    ("JAM", 106),
    ("POL", 75),
    ("ZWE", 66),
    ("NGA", 59),
    ("VNM", 57),
    ("PAK", 53),
    ("IRQ", 45),
    ("SOM", 44),
    ("PRT", 41),
)
FIG2_OTHERS = 641
OTHER_NATIONALITIES = (
    "AFG",
    "AGO",
    "ARE",
    "ARG",
    "BGD",
    "BGR",
    "BRA",
    "CAN",
    "CHN",
    "CMR",
    "COD",
    "COG",
    "COL",
    "CZE",
    "DEU",
    "DZA",
    "ECU",
    "EGY",
    "ERI",
    "ESP",
    "ETH",
    "FRA",
    "GAB",
    "GEO",
    "GHA",
    "GMB",
    "GRC",
    "GRD",
    "GUY",
    "HRV",
    "HUN",
    "IND",
    "IRL",
    "IRN",
    "ITA",
    "JOR",
    "KEN",
    "KOS",
    "KWT",
    "LBN",
    "LBR",
    "LBY",
    "LCA",
    "LKA",
    "LTU",
    "LVA",
    "MAR",
    "MDA",
    "MKD",
    "MLI",
    "MNE",
    "MOZ",
    "MUS",
    "MWI",
    "MYS",
    "NER",
    "NLD",
    "NPL",
    "PHL",
    "ROU",
    "RUS",
    "RWA",
    "SAU",
    "SDN",
    "SEN",
    "SLE",
    "SRB",
    "SSD",
    "SVK",
    "SWE",
    "SYR",
    "TCD",
    "TGO",
    "THA",
    "TTO",
    "TUN",
    "TUR",
    "TZA",
    "UGA",
    "UKR",
    "USA",
    "UZB",
    "VCT",
    "VEN",
    "YEM",
    "ZAF",
    "ZMB",
    "BEL",
    "BOL",
    "CUB",
)
GENDER_COUNTS = (("female", 31), ("male", 1621), ("", 80))

#: Figure 6, breaches per month for six months: type -> counts.
FIG6 = (
    ("battery", (314, 498, 670, 966, 1156, 1363)),
    ("absence_15min", (191, 190, 127, 128, 155, 124)),
    ("full_curfew_missed", (133, 81, 70, 76, 26, 7)),
    ("interference_pid", (25, 43, 54, 59, 91, 75)),
    ("not_available_for_installation", (41, 41, 47, 58, 67, 67)),
    ("other", (12, 23, 32, 23, 38, 60)),
)
#: "Other" spread over the remaining breach types of formats.md (weights ours).
OTHER_BREACHES = (
    ("partial_curfew_missed", 6),
    ("strap_tamper", 4),
    ("inability_to_monitor", 3),
    ("hmu_interference", 3),
    ("ac_power_loss", 3),
    ("monitor_movement", 2),
    ("moved_without_variation", 2),
    ("abusive_behaviour", 1),
    ("negative_ram", 1),
    ("unsuccessful_induction_visit", 2),
    ("failed_enrolment", 1),
    ("location_breach", 2),
)
# Figure 14: EM reviews completed in the six months, kept on ("continue") and
# ceased, varied or curfew removed or amended.
FIG14_REVIEWS = (338, 162)
#: Figure 14 legal challenges over the six months: kind -> completed, outstanding.
FIG14_LEGAL = (("representation_received", 77, 8), ("pap_received", 16, 3), ("jr_lodged", 2, 3))
LEGAL_REPLY_DAYS = {"representation_received": 14, "pap_received": 14, "jr_lodged": 21}

# --- The bucket contract (contracts.md; rules/intel/campaigns.toml) ----------

NATIONAL_CAMPAIGNS = (
    ("NAT-CONSTRUCTION", "construction"),
    ("NAT-CARE", "care"),
    ("NAT-CATERING", "catering"),
)
LOCAL_CAMPAIGNS = {
    "LSE": ("LOC-LSE-CARWASH", "car_wash"),
    "NMWSW": ("LOC-NMWSW-NAILBAR", "nail_bar"),
    "SNI": ("LOC-SNI-AGRI", "agriculture"),
}
THREAT_FLAGS = ("weapon", "fno", "violence", "organised_crime")
SAFEGUARDING_FLAGS = ("exploitation", "child_at_risk", "vulnerable_adult")
#: Sectors that match no campaign anywhere.
PLAIN_SECTORS = (
    "manufacturing",
    "warehouse",
    "food_processing",
    "hospitality",
    "retail",
    "cleaning",
    "beauty",
    "logistics",
)

# --- The learnable signal (docs/demo-data.md, "The learnable signal") --------

HARM_INTERCEPT = -2.45


class HarmWeights(TypedDict):
    """Log-odds weights of the demo's harm model (see ``harm_probability``)."""

    threat_flag: float
    safeguarding: float
    whereabouts: dict[str, float]
    grade_source: dict[str, float]
    grade_intel: dict[str, float]
    corroborated: float
    age_per_day: float
    log_persons: float
    subject_named: float


HARM_WEIGHTS: HarmWeights = {
    "threat_flag": 1.1,
    "safeguarding": 0.7,
    "whereabouts": {"known": 0.9, "last_known": 0.2, "unknown": -0.8},
    "grade_source": {"1": 0.4, "2": 0.0, "3": -0.4},
    "grade_intel": {"A": 0.6, "B": 0.3, "C": 0.0, "D": -0.4, "E": -0.8},
    "corroborated": 0.6,
    "age_per_day": -0.015,  # capped at 120 days
    "log_persons": 0.25,
    "subject_named": 0.3,
}
HARM_RESULTS = ("arrest", "removal", "referral")


# --- Small shared arithmetic ---------------------------------------------------


def largest_remainder(weights: Sequence[float], total: int) -> list[int]:
    """Integers proportional to ``weights`` summing to ``total`` (ties: first wins)."""
    weight_sum = float(sum(weights))
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    quotas = [w * total / weight_sum for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


@overload
def review_due(fitted: date, last_review: date | None) -> date: ...
@overload
def review_due(fitted: date | None, last_review: date | None) -> date | None: ...
def review_due(fitted: date | None, last_review: date | None) -> date | None:
    """Review due 3 calendar months after the later of fitting and last review."""
    dates = [d for d in (fitted, last_review) if d is not None]
    return add_months(max(dates), 3) if dates else None


def breach_months(end: date) -> list[date]:
    """First days of the six complete calendar months before ``end``'s month."""
    first = end.replace(day=1)
    return [add_months(first, k) for k in range(-6, 0)]


def fig9_counts(n: int) -> dict[tuple[str, str, str], int]:
    """Items per (region, group, latest decision) for ``n`` items."""
    weights = [FIG9[(r, g)][DECISIONS.index(d)] for r, g, d in FIG9_CELLS]
    return dict(zip(FIG9_CELLS, largest_remainder(weights, n), strict=True))


def fig6_counts(n_cases: int) -> list[dict[str, int]]:
    """Breach counts per month (six dicts type -> count) for ``n_cases`` cases."""
    months = []
    for m in range(6):
        weights = [counts[m] * n_cases / DEFAULT_EM for _, counts in FIG6]
        total = round(sum(weights))
        months.append(
            dict(zip((t for t, _ in FIG6), largest_remainder(weights, total), strict=True))
        )
    return months


# --- The learnable signal's formula -------------------------------------------


def flag_set(cell: str) -> set[str]:
    return {part for part in cell.split(";") if part}


def harm_probability(row: Mapping[str, str], *, age_days: int, corroborated: bool) -> float:
    """Chance that an accepted item's result shows harm (arrest/removal/referral).

    ``row`` is the canonical intel row (text cells); ``age_days`` is the age at
    the deciding meeting; ``corroborated`` says an earlier item shared its
    subject_ref or its business_name and postcode. Nationality, gender and
    the upstream bucket are deliberately not read.
    """
    w = HARM_WEIGHTS
    flags = flag_set(row.get("harm_flags", ""))
    allegation = row.get("allegation", "")
    logit = HARM_INTERCEPT
    if flags & set(THREAT_FLAGS) or allegation == "fno":
        logit += w["threat_flag"]
    if flags & set(SAFEGUARDING_FLAGS) or allegation == "modern_slavery":
        logit += w["safeguarding"]
    logit += w["whereabouts"].get(row.get("whereabouts", ""), 0.0)
    grading = row.get("grading", "")
    if grading:
        logit += w["grade_source"][grading[0]] + w["grade_intel"][grading[1]]
    if corroborated:
        logit += w["corroborated"]
    logit += w["age_per_day"] * min(max(age_days, 0), 120)
    persons = row.get("persons_estimated", "")
    if persons:
        logit += w["log_persons"] * math.log1p(int(persons))
    if row.get("subject_named", "") == "true":
        logit += w["subject_named"]
    return 1.0 / (1.0 + math.exp(-logit))


# --- Weighted draws ------------------------------------------------------------

# Cumulative weights per distribution, keyed by the id of its (value, weight)
# pairs. The entry keeps the pairs object alive, so its id cannot be reused.
# The distributions are tuple constants, plus each writer's small team lists.
_CUMULATIVE: dict[int, tuple[object, list[Any], list[float]]] = {}


def weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    """One value from (value, weight) pairs (one ``rng.random()`` draw)."""
    entry = _CUMULATIVE.get(id(pairs))
    if entry is None:
        cumulative, total = [], 0.0
        for _, weight in pairs:
            total += weight
            cumulative.append(total)
        entry = _CUMULATIVE[id(pairs)] = (pairs, [value for value, _ in pairs], cumulative)
    _, values, cumulative = entry
    index = bisect_right(cumulative, rng.random() * cumulative[-1])
    value: T = values[min(index, len(values) - 1)]
    return value
