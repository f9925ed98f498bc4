"""Calibrated synthetic demo data: intelligence, tasking history and EM caseload.

The generator writes the four canonical extracts of ``shared/formats.md``
(plus a few extension and unknown columns, as real extracts have) and loads
them through the real importer, so a demo database is built exactly the way
a team leader's would be. Everything is drawn from one ``random.Random(seed)``
in a fixed order: the same seed, sizes and end date give the same bytes.

Calibration (``shared/domain.md`` §2; the choices are documented in
``docs/demo-data.md``):

* NAO Figure 9: regional volumes and the accepted / rejected / not discussed
  split of high (buckets 1-4) and low (5-6) items, counted by each item's
  latest decision, exact at the default size and scaled by largest remainder
  otherwise.
* A learnable signal: whether an accepted task shows harm (arrest, removal,
  referral) follows a documented logistic formula of item features
  (``harm_probability``), never of nationality or gender.
* EM Figures 1-3, 5, 6 and 14: caseload size and statuses, nationality and
  gender mix, awaiting-device reasons, the monthly breach mix and the review
  backlog, exact at the default size.

Intelligence rows are streamed to disk (a million items need a few bytes of
state each), EM rows are small enough to build in memory.
"""

from __future__ import annotations

import math
import random
import tempfile
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypedDict, TypeVar, overload

from triage import clock, spreadsheet
from triage.em.deadlines import add_months
from triage.imports.columns import KINDS
from triage.intel import regions
from triage.jobs import Job, job_or_silent
from triage.users import Actor

if TYPE_CHECKING:  # the store loads only when demo data goes into a database
    from triage.store.db import Database

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
_VARIED_OUTCOMES = (("curfew_removed", 6), ("varied", 3), ("curfew_amended", 1))
_CASEWORKER_NAMES = ("R. Hall", "S. Patel", "T. Owens", "U. Reid", "V. Shah", "W. Young")
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

# --- Column lists -------------------------------------------------------------


def _canonical(kind: str) -> tuple[str, ...]:
    return tuple(column.name for column in KINDS[kind].columns)


# The canonical columns (triage.imports.columns, i.e. formats.md) plus the extra
# columns real extracts carry, which the importer keeps in each row's raw record.
INTEL_COLUMNS = (*_canonical("intel"), "source_system", "legacy_ref")
OUTCOME_COLUMNS = _canonical("outcomes")
EM_CASE_COLUMNS = _canonical("em-cases")
EM_EVENT_COLUMNS = _canonical("em-events")
FILE_NAMES = {
    "em-cases": "em_cases.csv",
    "em-events": "em_events.csv",
    "intel": "intel_items.csv",
    "outcomes": "outcomes.csv",
}
IMPORT_ORDER = ("em-cases", "em-events", "intel", "outcomes")

# An EM event before it is written: (started, case index, type, ended, detail, replied).
RawEvent = tuple[datetime, int, str, datetime | None, str, datetime | None]
T = TypeVar("T")


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


def _stamp(moment: datetime) -> str:
    """A generated UK wall-clock time as extract text that the importer reads
    back in the same order as the generator made them.

    The generator works in wall-clock time. A wall time in the hour skipped
    when clocks go forward does not exist (the importer quarantines it): it
    is written as the end of the gap, 02:00, the instant the clocks changed.
    One in the hour repeated when clocks go back is written with its first
    offset (+01:00). Both keep later wall times later or equal as instants.
    """
    # fold=0: the generator's wall times never mean the second of a repeated hour.
    aware = moment.replace(tzinfo=clock.LONDON, fold=0)
    if clock.to_local(aware.astimezone(UTC).replace(tzinfo=None)).hour != moment.hour:
        return (moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).isoformat(
            timespec="seconds"
        )
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        return aware.isoformat(timespec="seconds")
    return moment.isoformat(timespec="seconds")


def _unstamp(text: str) -> datetime:
    """The wall-clock time ``_stamp`` wrote."""
    return datetime.fromisoformat(text).replace(tzinfo=None)


def _flag_set(cell: str) -> set[str]:
    return {part for part in cell.split(";") if part}


def harm_probability(row: Mapping[str, str], *, age_days: int, corroborated: bool) -> float:
    """Chance that an accepted item's result shows harm (arrest/removal/referral).

    ``row`` is the canonical intel row (text cells); ``age_days`` is the age at
    the deciding meeting; ``corroborated`` says an earlier item shared its
    subject_ref or its business_name and postcode. Nationality, gender and
    the upstream bucket are deliberately not read.
    """
    w = HARM_WEIGHTS
    flags = _flag_set(row.get("harm_flags", ""))
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


# --- Results -------------------------------------------------------------------


@dataclass
class DemoFiles:
    """The written extracts and what is in them."""

    folder: Path
    paths: dict[str, Path]
    counts: dict[str, int] = field(default_factory=dict)
    end: date | None = None


@dataclass
class DemoSummary:
    files: DemoFiles
    imported: dict[str, dict[str, int]]
    seconds: float
    reviews: int = 0  # EM reviews recorded in Triage (no extract format carries them)


# --- Intelligence items and tasking history ----------------------------------

_POSTCODE_AREAS = {
    "LSE": ("E", "N", "SE", "SW", "W", "NW", "BR", "CR", "KT", "TN", "ME", "RG", "SL", "GU", "BN"),
    "NMWSW": ("M", "L", "B", "LS", "S", "NE", "CF", "BS", "PL", "EX", "NG", "LE", "BD", "SA"),
    "SNI": ("G", "EH", "AB", "DD", "KY", "PA", "BT"),
}
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_NAME_FIRST = (
    "Sunrise",
    "Royal",
    "Golden",
    "Express",
    "City",
    "Premier",
    "Star",
    "Crown",
    "Green",
    "Union",
    "Metro",
    "Phoenix",
    "Empire",
    "Harbour",
    "Northern",
    "Central",
    "Prime",
    "Ace",
)
_SECTOR_NOUN = {
    "construction": "Builders",
    "care": "Care Home",
    "catering": "Kitchen",
    "car_wash": "Hand Car Wash",
    "nail_bar": "Nails",
    "agriculture": "Farms",
    "manufacturing": "Textiles",
    "warehouse": "Distribution",
    "food_processing": "Foods",
    "hospitality": "Hotel",
    "retail": "Mini Market",
    "cleaning": "Cleaning Services",
    "beauty": "Barbers",
    "logistics": "Couriers",
}
_SUBJECT_NATIONALITIES = (
    ("IND", 22),
    ("PAK", 14),
    ("BGD", 12),
    ("ALB", 8),
    ("CHN", 6),
    ("NGA", 5),
    ("VNM", 5),
    ("ROU", 4),
    ("BRA", 3),
    ("LKA", 3),
    ("GHA", 3),
    ("EGY", 2),
    ("IRQ", 2),
    ("TUR", 2),
    ("POL", 2),
    ("LTU", 1),
    ("PHL", 2),
    ("UKR", 1),
    ("ERI", 1),
    ("AFG", 2),
)
_LEADER_NAMES = (
    "A. Ahmed",
    "B. Baker",
    "C. Campbell",
    "D. Davies",
    "E. Evans",
    "F. Fraser",
    "G. Green",
    "H. Hughes",
    "I. Iqbal",
    "J. Jones",
    "K. Kaur",
    "L. Lewis",
    "M. Morgan",
    "N. Nowak",
    "O. Okafor",
    "P. Patel",
    "R. Reid",
    "S. Smith",
    "T. Taylor",
    "W. Walker",
)
_NOT_HARM_RESULTS = (("no_trace", 0.55), ("encountered_no_action", 0.35), ("other", 0.10))


# Cumulative weights per distribution, keyed by the id of its (value, weight)
# pairs. The entry keeps the pairs object alive, so its id cannot be reused.
# The distributions are tuple constants, plus each writer's small team lists.
_CUMULATIVE: dict[int, tuple[object, list[Any], list[float]]] = {}


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
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


@dataclass(frozen=True)
class _ItemPlan:
    """What the tasking history of an item needs beyond its written row."""

    bucket: int
    corroborated: bool
    received: datetime
    team: str
    capacity: int
    weekday: int
    leaders: tuple[str, str]


class _IntelWriter:
    """Streams intel items and their tasking outcomes in received order."""

    def __init__(self, rng: random.Random, n: int, end: date) -> None:
        self.rng = rng
        self.n = n
        self.end = end
        self.end_moment = datetime.combine(end, time())
        self.start_moment = datetime.combine(add_months(end, -10), time())
        self.last_meeting_day = end - timedelta(days=1)
        self.nationalities = [(c, float(w)) for c, w in _SUBJECT_NATIONALITIES]
        # region -> ((team, capacity, weekday, leaders), weight = capacity)
        self.teams: dict[str, list[tuple[tuple[str, int, int, tuple[str, str]], float]]] = {}
        for region in regions.load_regions():
            self.teams[region.code] = []
            for index, team in enumerate(region.teams):
                leaders = (rng.choice(_LEADER_NAMES), rng.choice(_LEADER_NAMES))
                # Teams meet weekly on their own weekday (Monday-Thursday).
                entry = (team.name, team.capacity, index % 4, leaders)
                self.teams[region.code].append((entry, float(team.capacity)))
        self.region_names = {r.code: r.name for r in regions.load_regions()}
        # Recent subjects and premises per region (and bucket), to corroborate.
        self.recent_subjects: dict[str, list[str]] = {code: [] for code in self.teams}
        self.recent_premises: dict[tuple[str, int, str], list[tuple[str, str]]] = {}
        self.hide_sector = False
        # Tasks accepted per (team, meeting day), against the team's capacity.
        self.accepted_at: dict[tuple[str, date], int] = {}
        self.subject_counter = 0
        self.stats = {"items": 0, "outcomes": 0, "late_passed": 0, "corroborated": 0}

    # The order of the items: one Figure 9 cell each, received times sorted.
    def _plan(self) -> tuple[bytearray, array[float]]:
        rng = self.rng
        counts = fig9_counts(self.n)
        labels = bytearray()
        for index, cell in enumerate(FIG9_CELLS):
            labels.extend(bytes([index]) * counts[cell])
        rng.shuffle(labels)
        span = (self.end_moment - self.start_moment).total_seconds()
        times = array("d", sorted(rng.random() * span for _ in range(self.n)))
        # Decided items need a meeting before the end: none of them in the
        # last 28 days (pass-on delay up to 20 days, then a weekly meeting).
        cutoff = span - 28 * 86400
        first_tail = bisect_right(times, cutoff)
        undiscussed = {i for i, cell in enumerate(FIG9_CELLS) if cell[2] == "not_discussed"}
        retimed = False
        for position in range(first_tail, self.n):
            if labels[position] in undiscussed:
                continue
            partner = self._undiscussed_before(labels, first_tail, undiscussed)
            if partner is None:  # tiny samples: re-time the item instead
                times[position] = rng.random() * max(cutoff, 0.0)
                retimed = True
            else:
                labels[position], labels[partner] = labels[partner], labels[position]
        if retimed:
            order = sorted(range(self.n), key=lambda i: times[i])
            times = array("d", (times[i] for i in order))
            labels = bytearray(labels[i] for i in order)
        return labels, times

    def _undiscussed_before(
        self, labels: bytearray, limit: int, undiscussed: set[int]
    ) -> int | None:
        for _ in range(200):
            if limit <= 0:
                return None
            j = self.rng.randrange(limit)
            if labels[j] in undiscussed:
                return j
        return next((j for j in range(limit) if labels[j] in undiscussed), None)

    def write(self, intel_handle: TextIO, outcome_handle: TextIO) -> None:
        intel_csv = spreadsheet.csv_writer(intel_handle)
        outcome_csv = spreadsheet.csv_writer(outcome_handle)
        intel_csv.writerow(INTEL_COLUMNS)
        outcome_csv.writerow(OUTCOME_COLUMNS)
        labels, times = self._plan()
        for position in range(self.n):
            region, group, decision = FIG9_CELLS[labels[position]]
            received = self.start_moment + timedelta(seconds=int(times[position]))
            row, item = self._item(position, region, group, received)
            intel_csv.writerow([row.get(c, "") for c in INTEL_COLUMNS])
            for outcome in self._history(row, item, decision):
                outcome_csv.writerow(outcome)
            self.stats["items"] += 1

    # One item: features chosen so the bucket contract puts it where intended.
    def _item(
        self, position: int, region: str, group: str, received: datetime
    ) -> tuple[dict[str, str], _ItemPlan]:
        rng = self.rng
        bucket = _weighted(rng, BUCKET_SPLIT[group])
        team_name, capacity, weekday, leaders = _weighted(rng, self.teams[region])
        row: dict[str, str] = {
            "intel_id": f"INT-{position + 1:07d}",
            "received_at": _stamp(received),
            # Mess: a few extracts spell the region out in full.
            "region": self.region_names[region] if rng.random() < 0.03 else region,
            "team": "" if rng.random() < 0.05 else team_name,
            "source_type": _weighted(
                rng,
                (
                    ("public", 70),
                    ("police", 10),
                    ("partner", 8),
                    ("internal", 7),
                    ("other", 3),
                    ("", 2),
                ),
            ),
        }
        if rng.random() < 0.92:
            row["grading"] = "{}{} {}".format(
                _weighted(rng, (("1", 2), ("2", 5), ("3", 3))),
                _weighted(rng, (("A", 1), ("B", 3), ("C", 3.5), ("D", 1.5), ("E", 1))),
                "C" if rng.random() < 0.1 else "P",
            )
        row["whereabouts"] = _weighted(
            rng, (("known", 35), ("last_known", 40), ("unknown", 15), ("", 10))
        )
        row["postcode"] = self._postcode(region) if rng.random() < 0.93 else ""
        self.hide_sector = False
        getattr(self, f"_bucket{bucket}")(row, region)
        flags = _flag_set(row.get("harm_flags", ""))
        if rng.random() < 0.08:
            flags.add(rng.choice(SAFEGUARDING_FLAGS))
        if rng.random() < 0.04:
            flags.add("drugs")
        row["harm_flags"] = ";".join(sorted(flags))
        corroborated = self._corroborate(row, region, bucket)
        if self.hide_sector:
            row["sector"] = ""  # mess, only where the bucket does not need it
        if row.get("subject_named") == "true" and rng.random() < 0.6:
            row["nationality"] = _weighted(rng, self.nationalities)
        elif rng.random() < 0.2:
            row["nationality"] = _weighted(rng, self.nationalities)
        row["bucket"] = "" if rng.random() < 0.05 else str(bucket)
        row["passed_at"] = self._passed(received)
        row["summary"] = self._summary(row)
        row["source_system"] = _weighted(rng, (("IMS", 6), ("CID", 2), ("Atlas", 1), ("", 1)))
        if rng.random() < 0.3:
            row["legacy_ref"] = f"L{rng.randrange(10**6):06d}"
        if corroborated:
            self.stats["corroborated"] += 1
        plan = _ItemPlan(bucket, corroborated, received, team_name, int(capacity), weekday, leaders)
        return row, plan

    def _postcode(self, region: str) -> str:
        rng = self.rng
        district = f"{rng.choice(_POSTCODE_AREAS[region])}{rng.randrange(1, 30)}"
        unit = f"{rng.randrange(10)}{rng.choice(_UNIT_LETTERS)}{rng.choice(_UNIT_LETTERS)}"
        return f"{district} {unit}"

    def _business(self, row: dict[str, str], sector: str) -> None:
        row["business_name"] = f"{self.rng.choice(_NAME_FIRST)} {_SECTOR_NOUN[sector]}"
        row["sector"] = sector

    def _plain_sector(self, region: str) -> str:
        """A sector that matches no campaign in ``region``."""
        rng = self.rng
        local_elsewhere = [s for r, (_, s) in LOCAL_CAMPAIGNS.items() if r != region]
        return rng.choice(PLAIN_SECTORS + tuple(local_elsewhere))

    def _subject(self, row: dict[str, str], named: str) -> None:
        row["subject_named"] = named
        if named == "true":
            self.subject_counter += 1
            row["subject_ref"] = f"S{self.subject_counter:07d}"

    # Bucket 1: a national campaign code, or its sector + illegal working + a business.
    def _bucket1(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        code, sector = rng.choice(NATIONAL_CAMPAIGNS)
        if rng.random() < 0.5:
            row["campaign"] = code
            self._business(row, sector)
            self.hide_sector = rng.random() < 0.1  # the code says enough
            row["allegation"] = "modern_slavery" if rng.random() < 0.1 else "illegal_working"
        else:
            self._business(row, sector)
            row["allegation"] = "illegal_working"
        row["persons_estimated"] = str(rng.randrange(2, 26)) if rng.random() < 0.9 else ""
        self._subject(row, "true" if rng.random() < 0.35 else "false")

    # Bucket 2: the region's local campaign code, or its sector + a business.
    def _bucket2(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        code, sector = LOCAL_CAMPAIGNS[region]
        if rng.random() < 0.5:
            row["campaign"] = code
        self._business(row, sector)
        row["allegation"] = _weighted(rng, (("illegal_working", 8), ("modern_slavery", 1), ("", 1)))
        row["persons_estimated"] = str(rng.randrange(1, 16)) if rng.random() < 0.9 else ""
        self._subject(row, "true" if rng.random() < 0.3 else "false")

    # Bucket 3: a named business where five or more people may be found.
    def _bucket3(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        if rng.random() < 0.2:
            # A national-campaign sector, but not illegal working: no bucket 1.
            self._business(row, rng.choice(NATIONAL_CAMPAIGNS)[1])
            row["allegation"] = _weighted(
                rng, (("modern_slavery", 1), ("other", 1), ("document_fraud", 1))
            )
        else:
            self._business(row, self._plain_sector(region))
            row["allegation"] = _weighted(
                rng, (("illegal_working", 6), ("modern_slavery", 1), ("other", 1), ("", 1))
            )
        row["persons_estimated"] = str(5 + int(rng.expovariate(1 / 8)))
        self._subject(row, "true" if rng.random() < 0.25 else "false")

    # Bucket 4: a credible threat (threat flag or an FNO allegation).
    def _bucket4(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        if rng.random() < 0.7:
            flags = {rng.choice(THREAT_FLAGS)}
            if rng.random() < 0.3:
                flags.add(rng.choice(THREAT_FLAGS))
            row["harm_flags"] = ";".join(sorted(flags))
            row["allegation"] = _weighted(
                rng, (("overstayer", 3), ("illegal_working", 2), ("fno", 2), ("other", 1), ("", 1))
            )
        else:
            row["allegation"] = "fno"
        if rng.random() < 0.2:
            self._business(row, self._plain_sector(region))
            row["persons_estimated"] = str(rng.randrange(0, 5))
        elif rng.random() < 0.6:
            row["persons_estimated"] = str(rng.randrange(1, 4))
        self._subject(row, "true" if rng.random() < 0.85 else "")

    # Bucket 5: a named subject and a national-priority allegation, nothing more.
    def _bucket5(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        row["allegation"] = _weighted(
            rng,
            (
                ("overstayer", 5),
                ("illegal_working", 3),
                ("sham_marriage", 1),
                ("document_fraud", 1),
                ("clandestine_entry", 1),
                ("modern_slavery", 0.5),
            ),
        )
        if rng.random() < 0.15:
            self._business(row, self._plain_sector(region))
            row["persons_estimated"] = str(rng.randrange(0, 5))
        elif rng.random() < 0.5:
            row["persons_estimated"] = str(rng.randrange(1, 3))
        self._subject(row, "true")

    # Bucket 6: no named subject, or nothing aligned with national priorities.
    def _bucket6(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        if rng.random() < 0.12:
            self._subject(row, "true")
            row["allegation"] = "other" if rng.random() < 0.7 else ""
        else:
            self._subject(row, "false" if rng.random() < 0.8 else "")
            row["allegation"] = _weighted(
                rng, (("illegal_working", 5), ("overstayer", 3), ("other", 2), ("", 2))
            )
        if rng.random() < 0.3:
            self._business(row, self._plain_sector(region))
            self.hide_sector = rng.random() < 0.2
            row["persons_estimated"] = str(rng.randrange(0, 5)) if rng.random() < 0.7 else ""
        elif rng.random() < 0.3:
            row["persons_estimated"] = str(rng.randrange(0, 5))

    def _corroborate(self, row: dict[str, str], region: str, bucket: int) -> bool:
        """Sometimes repeat an earlier subject or premises of the same region."""
        rng = self.rng
        corroborated = False
        subjects = self.recent_subjects[region]
        if row.get("subject_ref"):
            if subjects and rng.random() < 0.12:
                row["subject_ref"] = rng.choice(subjects)
                corroborated = True
            else:
                subjects.append(row["subject_ref"])
                if len(subjects) > 400:
                    del subjects[: len(subjects) - 400]
        if row.get("business_name") and row.get("postcode"):
            # Premises are shared only between items of the same region,
            # bucket and sector, so a repeat stays in its intended bucket.
            key = (region, bucket, row.get("sector", ""))
            premises = self.recent_premises.setdefault(key, [])
            if premises and rng.random() < 0.10:
                row["business_name"], row["postcode"] = rng.choice(premises)
                corroborated = True
            else:
                premises.append((row["business_name"], row["postcode"]))
                if len(premises) > 400:
                    del premises[: len(premises) - 400]
        return corroborated

    def _passed(self, received: datetime) -> str:
        rng = self.rng
        if rng.random() < 0.03:
            return ""  # not recorded
        if rng.random() < 0.15:
            delay = timedelta(hours=rng.uniform(49, 20 * 24))
            self.stats["late_passed"] += 1
        else:
            delay = timedelta(hours=rng.uniform(0.5, 47.5))
        passed = received + delay
        if passed >= self.end_moment:
            passed = received + (self.end_moment - received) / 2
        return _stamp(passed)

    def _summary(self, row: dict[str, str]) -> str:
        who = {
            "police": "Police report",
            "partner": "Partner agency reports",
            "internal": "Internal referral",
        }.get(row.get("source_type", ""), "Member of public reports")
        what = (row.get("allegation") or "concerns").replace("_", " ")
        where = row.get("business_name") or (
            f"address in {row['postcode'].split()[0]}" if row.get("postcode") else "unknown address"
        )
        people = row.get("persons_estimated")
        crowd = f", about {people} people" if people else ""
        return f"{who}: {what} at {where}{crowd}."

    # The tasking history of one item: zero or more outcome rows.
    def _history(self, row: dict[str, str], item: _ItemPlan, decision: str) -> list[list[str]]:
        rng = self.rng
        received = item.received
        passed = _unstamp(row["passed_at"]) if row["passed_at"] else received
        day = passed.date() + timedelta(days=1)
        first = day + timedelta(days=(item.weekday - day.weekday()) % 7)
        meetings_left = (self.last_meeting_day - first).days // 7  # after the first
        if meetings_left < 0:
            return []  # no meeting yet (only undiscussed items come here)

        def record(
            day: date, what: str, reason: str = "", result: str = "", result_at: str = ""
        ) -> list[str]:
            chair = item.leaders[(day.toordinal() // 7) % 2]
            return [row["intel_id"], day.isoformat(), what, reason, chair, result, result_at]

        rows: list[list[str]] = []
        if decision == "not_discussed":
            if rng.random() < 0.35:
                rows.append(record(first, "not_discussed"))
                if meetings_left >= 1 and rng.random() < 0.4:
                    later = first + timedelta(days=7 * rng.randrange(1, min(meetings_left, 8) + 1))
                    rows.append(record(later, "not_discussed"))
            self.stats["outcomes"] += len(rows)
            return rows
        # High-priority items are mostly decided at once; low ones wait.
        carried = (
            (0 if rng.random() < 0.8 else rng.randrange(1, 3))
            if item.bucket <= 4
            else min(int(rng.expovariate(0.4)), 30)
        )
        carried = min(carried, meetings_left)
        if decision == "accepted":
            # A full meeting (capacity reached) pushes the task up to three
            # weeks on; after that the team takes it anyway, as NAO saw
            # teams outside London accept more than they could follow up.
            for _ in range(3):
                day = first + timedelta(days=7 * carried)
                if (
                    self.accepted_at.get((item.team, day), 0) < item.capacity
                    or carried >= meetings_left
                ):
                    break
                carried += 1
        decided_on = first + timedelta(days=7 * carried)
        if decision == "accepted":
            key = (item.team, decided_on)
            self.accepted_at[key] = self.accepted_at.get(key, 0) + 1
        if carried and rng.random() < 0.5:
            rows.append(record(first, "not_discussed"))
        age_days = (decided_on - received.date()).days
        if decision == "rejected":
            rows.append(
                record(decided_on, "rejected", self._reason(row, age_days, item.corroborated))
            )
        else:
            result, result_at = self._result(row, decided_on, age_days, item.corroborated)
            rows.append(record(decided_on, "accepted", "", result, result_at))
        self.stats["outcomes"] += len(rows)
        return rows

    def _reason(self, row: dict[str, str], age_days: int, corroborated: bool) -> str:
        rng = self.rng
        if age_days > 60 and rng.random() < 0.6:
            return "stale"
        if corroborated and rng.random() < 0.5:
            return "duplicate"
        if row.get("whereabouts") == "unknown" and rng.random() < 0.5:
            return "not_workable"
        grading = row.get("grading", "")
        if (not grading or grading[1] in "DE") and rng.random() < 0.5:
            return "insufficient_detail"
        return _weighted(
            rng,
            (
                ("no_capacity", 35),
                ("not_workable", 15),
                ("insufficient_detail", 20),
                ("out_of_area", 10),
                ("referred_elsewhere", 10),
                ("duplicate", 5),
                ("stale", 5),
            ),
        )

    def _result(
        self, row: dict[str, str], decided_on: date, age_days: int, corroborated: bool
    ) -> tuple[str, str]:
        rng = self.rng
        p = harm_probability(row, age_days=age_days, corroborated=corroborated)
        harm = rng.random() < p
        # Drawn whatever happens, so an unrecorded result never shifts the
        # random stream of later items.
        acted_after = int(rng.triangular(2, 60, 10))
        recorded = rng.random() < 0.94
        result_at = decided_on + timedelta(days=acted_after)
        if not recorded or result_at >= self.end:
            return "", ""  # accepted, not (yet) actioned
        if harm:
            safeguarding = (
                bool(_flag_set(row["harm_flags"]) & set(SAFEGUARDING_FLAGS))
                or row.get("allegation") == "modern_slavery"
            )
            split = (
                (("referral", 6), ("arrest", 2.5), ("removal", 1.5))
                if safeguarding
                else (("arrest", 5.5), ("removal", 2.5), ("referral", 2))
            )
            result = _weighted(rng, split)
        else:
            result = _weighted(rng, _NOT_HARM_RESULTS)
        return result, result_at.isoformat()


# --- EM cases and events -----------------------------------------------------


def _labels(rng: random.Random, pairs: Sequence[tuple[str, int]], n: int) -> list[str]:
    """Exactly proportional labels (largest remainder), shuffled."""
    counts = largest_remainder([c for _, c in pairs], n)
    out = [label for (label, _), k in zip(pairs, counts, strict=True) for _ in range(k)]
    rng.shuffle(out)
    return out


class _EmWriter:
    """Builds the EM caseload and its events (small enough to hold in memory)."""

    def __init__(self, rng: random.Random, n: int, end: date) -> None:
        self.rng = rng
        self.n = n
        self.end = end
        self.end_moment = datetime.combine(end, time())
        self.cases: list[dict[str, str]] = []
        self.events: list[list[str]] = []
        self.stats: dict[str, int] = {}

    def build(self) -> None:
        self._cases()
        self._events()

    def _moment(self, day: date) -> datetime:
        """A working-hours time on ``day``."""
        return datetime.combine(day, time(8)) + timedelta(minutes=self.rng.randrange(10 * 60))

    def _cases(self) -> None:
        rng, n, end = self.rng, self.n, self.end
        statuses = _labels(rng, EM_STATUS_COUNTS, n)
        awaiting = [i for i, s in enumerate(statuses) if s == "awaiting_fit"]
        inductions = dict(zip(awaiting, _labels(rng, INDUCTION_COUNTS, len(awaiting)), strict=True))
        active = [i for i, s in enumerate(statuses) if s == "active"]
        overdue_n = largest_remainder([REVIEW_OVERDUE, 1622 - REVIEW_OVERDUE], len(active))[0]
        overdue = set(rng.sample(active, overdue_n))
        # Out of contact: long-standing cases (fitted months ago), so the
        # lost contact always comes after the fitting.
        out_of_contact = set(
            rng.sample(
                sorted(overdue), min(len(overdue), round(len(active) * OUT_OF_CONTACT_SHARE))
            )
        )
        nationality_pairs = list(FIG2) + [("other", FIG2_OTHERS), ("", 1732 - 1652)]
        nationalities = _labels(rng, nationality_pairs, n)
        genders = _labels(rng, GENDER_COUNTS, n)
        for i in range(n):
            status = statuses[i]
            case: dict[str, str] = {
                "case_id": f"EM-{i + 1:06d}",
                "person_ref": f"P{rng.randrange(10**7):07d}",
                "region": _weighted(rng, (("LSE", 45), ("NMWSW", 52), ("SNI", 3))),
                "nationality": rng.choice(OTHER_NATIONALITIES)
                if nationalities[i] == "other"
                else nationalities[i],
                "harm_level": _weighted(
                    rng, (("very_high", 10), ("high", 30), ("medium", 40), ("low", 20))
                ),
                "deportation_category": _weighted(
                    rng, (("standard", 72), ("dwa", 4), ("do_breach", 9), ("eea", 15))
                ),
                "sentence_months": ""
                if rng.random() < 0.03
                else str(12 + int(rng.expovariate(1 / 30))),
                "bail_type": "ij" if rng.random() < 0.8 else "sos",
                "em_status": status,
                "gender": genders[i],
                "induction_status": inductions.get(i, ""),
            }
            if rng.random() < 0.18:
                picks = {
                    rng.choice(
                        (
                            "medical",
                            "mental_health",
                            "trafficking_victim",
                            "age",
                            "disability",
                            "other",
                        )
                    )
                }
                if rng.random() < 0.25:
                    picks.add(rng.choice(("medical", "mental_health", "disability")))
                case["vulnerabilities"] = ";".join(sorted(picks))
            fitted = last_review = None
            if status == "active":
                fitted, last_review = self._review_history(i in overdue)
            elif status == "suspended":
                fitted, last_review = self._review_history(rng.random() < 0.5)
            elif status == "ceased":
                fitted = end - timedelta(days=rng.randrange(200, 500))
            bail_day = (fitted or end - timedelta(days=rng.randrange(3, 120))) - timedelta(
                days=rng.randrange(0, 3 if case["bail_type"] == "ij" else 15)
            )
            case["bail_granted_at"] = _stamp(self._moment(bail_day))
            if status in ("active", "suspended"):
                case["device"] = "fitted"
                case["held_at"] = "community"
            elif status == "awaiting_fit":
                case["device"] = "none"
                case["held_at"] = "community"
            else:
                case["device"] = "none"
                case["held_at"] = _weighted(rng, (("community", 6), ("irc", 3), ("prison", 1)))
            if fitted is not None and status != "ceased":
                fitted_at = self._moment(fitted)
                case["fitted_at"] = _stamp(fitted_at)
                case["_fitted"] = fitted_at.isoformat()
            case["last_review_at"] = last_review.isoformat() if last_review else ""
            if status in ("active", "suspended"):
                if i in out_of_contact:
                    lost = self.end_moment - timedelta(hours=rng.uniform(7 * 24 + 6, 60 * 24))
                    case["last_contact_at"] = _stamp(lost)
                else:
                    case["last_contact_at"] = _stamp(
                        self.end_moment - timedelta(minutes=rng.randrange(5, 36 * 60))
                    )
            self.cases.append(case)
        self.stats["cases"] = n
        self.stats["active"] = len(active)
        self.stats["review_overdue"] = overdue_n
        self.stats["out_of_contact"] = len(out_of_contact)

    def _review_history(self, overdue: bool) -> tuple[date, date | None]:
        """Fitting date and last review such that the review is (not) overdue.

        Due dates are kept two days clear of ``end`` so that no reading of
        "overdue on the due day" changes the count.
        """
        rng, end = self.rng, self.end
        while True:
            if overdue:
                base = end - timedelta(days=rng.randrange(93, 300))
            else:
                base = end - timedelta(days=rng.randrange(0, 88))
            due = review_due(base, None)
            if (overdue and due <= end - timedelta(days=2)) or (
                not overdue and due >= end + timedelta(days=2)
            ):
                break
        if rng.random() < (0.45 if overdue else 0.35):
            fitted = base - timedelta(days=rng.randrange(80, 300))
            return fitted, base
        return base, None

    def _events(self) -> None:
        rng = self.rng
        months = breach_months(self.end)
        per_month = fig6_counts(self.n)
        fitted = sorted(
            (datetime.fromisoformat(c["_fitted"]), index)
            for index, c in enumerate(self.cases)
            if c.get("_fitted") and c["em_status"] in ("active", "suspended")
        )
        fitted_times = [t for t, _ in fitted]
        # A fifth of the fitted cases struggle to charge: most battery events are theirs.
        poor_chargers = [pair for pair in fitted if rng.random() < 0.2]
        poor_times = [t for t, _ in poor_chargers]
        awaiting = [i for i, c in enumerate(self.cases) if c["em_status"] == "awaiting_fit"]
        # (started, case index, type, ended, notes, responded)
        raw: list[RawEvent] = []

        def pick(
            at: datetime, pool: list[tuple[datetime, int]], times: list[datetime]
        ) -> int | None:
            eligible = bisect_right(times, at)
            for _ in range(20):
                if not eligible:
                    return None
                index = pool[rng.randrange(eligible)][1]
                if self._contact_until(index) < at + timedelta(days=2):
                    continue  # lost contact before this: no events after it
                return index
            return None

        for month_start, counts in zip(months, per_month, strict=True):
            month_end = add_months(month_start, 1)
            start = datetime.combine(month_start, time())
            seconds = (datetime.combine(month_end, time()) - start).total_seconds()

            def when(start: datetime = start, seconds: float = seconds) -> datetime:
                return start + timedelta(seconds=int(rng.random() * seconds))

            # Battery: bursts of short out-of-contact periods on one case.
            left = counts["battery"]
            while left:
                at = when()
                case = pick(at, poor_chargers, poor_times) if rng.random() < 0.85 else None
                if case is None:
                    case = pick(at, fitted, fitted_times)
                if case is None:
                    case = fitted[0][1] if fitted else None
                if case is None:
                    break
                burst = min(left, 1 + int(rng.expovariate(1 / 3.5)))
                for _ in range(burst):
                    hours = rng.lognormvariate(math.log(4.2), 0.6)
                    if at >= datetime.combine(month_end, time()) or (
                        at + timedelta(hours=hours) > self._contact_until(case)
                    ):
                        break  # the rest of the burst goes to another case
                    raw.append((at, case, "battery", at + timedelta(hours=hours), "", None))
                    left -= 1
                    at += timedelta(hours=hours + rng.uniform(4, 40))
            for kind in ("absence_15min", "full_curfew_missed", "interference_pid"):
                for _ in range(counts[kind]):
                    at = when()
                    case = pick(at, fitted, fitted_times)
                    if case is None:
                        case = fitted[0][1] if fitted else 0
                    length = {
                        "absence_15min": rng.uniform(0.25, 2),
                        "full_curfew_missed": rng.uniform(6, 10),
                        "interference_pid": rng.uniform(0.1, 1.5),
                    }[kind]
                    raw.append((at, case, kind, at + timedelta(hours=length), "", None))
            for _ in range(counts["not_available_for_installation"]):
                at = when()
                case = (
                    rng.choice(awaiting)
                    if awaiting and rng.random() < 0.7
                    else pick(at, fitted, fitted_times)
                )
                note = "unable to locate or uncooperative"
                raw.append(
                    (
                        at,
                        case if case is not None else 0,
                        "not_available_for_installation",
                        None,
                        note,
                        None,
                    )
                )
            for _ in range(counts["other"]):
                at = when()
                kind = _weighted(rng, OTHER_BREACHES)
                case = pick(at, fitted, fitted_times)
                ended = at + timedelta(hours=rng.uniform(0.2, 3)) if rng.random() < 0.6 else None
                raw.append((at, case if case is not None else 0, kind, ended, "", None))
        self._legal(raw, months)
        self._contacts(raw)
        raw.sort(key=lambda e: (e[0], e[1], e[2]))
        for number, (at, case, kind, ended, note, responded) in enumerate(raw, start=1):
            due = (
                _stamp(at + timedelta(days=LEGAL_REPLY_DAYS[kind]))
                if kind in LEGAL_REPLY_DAYS
                else ""
            )
            self.events.append(
                [
                    f"EV-{number:07d}",
                    self.cases[case]["case_id"],
                    kind,
                    _stamp(at),
                    _stamp(ended) if ended else "",
                    due,
                    note,
                    _stamp(responded) if responded else "",
                ]
            )
        self.stats["events"] = len(self.events)
        self.stats["breaches"] = sum(sum(month.values()) for month in per_month)

    def _contact_until(self, index: int) -> datetime:
        """The case's last contact; events after it would contradict it."""
        contact = self.cases[index].get("last_contact_at")
        return _unstamp(contact) if contact else datetime.max

    def _legal(self, raw: list[RawEvent], months: list[date]) -> None:
        """Representations, PAP letters and JRs with reply deadlines (Figure 14)."""
        rng = self.rng
        # Answered challenges are received and answered inside the six
        # months; outstanding ones arrive in the last 20 days.
        window_start = datetime.combine(months[0], time())
        window_end = datetime.combine(self.end.replace(day=1), time())
        recent_start = self.end_moment - timedelta(days=20)
        scale = self.n / DEFAULT_EM
        reviewed = [
            i
            for i, c in enumerate(self.cases)
            if c["last_review_at"]
            and c["em_status"] == "active"
            and months[0] + timedelta(days=10)
            < date.fromisoformat(c["last_review_at"])
            < self.end.replace(day=1)
        ]
        in_touch = self.end_moment - timedelta(days=2)
        overdue_cases = [
            i
            for i, c in enumerate(self.cases)
            if c["em_status"] == "active"
            and self._contact_until(i) > in_touch
            and review_due(
                datetime.fromisoformat(c["_fitted"]).date(),
                date.fromisoformat(c["last_review_at"]) if c["last_review_at"] else None,
            )
            < self.end
        ]
        active = [
            i
            for i, c in enumerate(self.cases)
            if c["em_status"] == "active" and self._contact_until(i) > in_touch
        ]
        for kind, done, outstanding in FIG14_LEGAL:
            done_n, open_n = round(done * scale), round(outstanding * scale)
            for k in range(done_n + open_n):
                finished = k < done_n
                if kind == "representation_received":
                    # A representation triggers a review: a completed one was
                    # followed by the case's last review; an outstanding one
                    # sits on a case whose review is overdue anyway, so the
                    # backlog count is the same however the trigger is read.
                    if finished and reviewed:
                        case = rng.choice(reviewed)
                        review = date.fromisoformat(self.cases[case]["last_review_at"])
                        at = self._moment(review - timedelta(days=rng.randrange(1, 8)))
                        reply = datetime.combine(review, time(16))
                    elif not finished and overdue_cases:
                        case = rng.choice(overdue_cases)
                        at = recent_start + (self.end_moment - recent_start) * rng.random()
                        reply = None
                    else:
                        continue
                else:
                    if not active:
                        continue
                    case = rng.choice(active)
                    if finished:
                        days = LEGAL_REPLY_DAYS[kind]
                        latest = window_end - timedelta(days=days)
                        at = window_start + (latest - window_start) * rng.random()
                        reply = at + timedelta(days=rng.uniform(1, days))
                    else:
                        at = recent_start + (self.end_moment - recent_start) * rng.random()
                        reply = None
                at = min(at, self._contact_until(case) - timedelta(hours=1))
                raw.append((at, case, kind, None, "", reply))

    def _contacts(self, raw: list[RawEvent]) -> None:
        """A contact_made event at the last contact of some cases (all of those out of contact)."""
        rng = self.rng
        for index, case in enumerate(self.cases):
            contact = case.get("last_contact_at")
            if not contact:
                continue
            lost = _unstamp(contact) < self.end_moment - timedelta(days=7)
            if lost or rng.random() < 0.1:
                raw.append((_unstamp(contact), index, "contact_made", None, "", None))

    def write(self, cases_handle: TextIO, events_handle: TextIO) -> None:
        cases_csv = spreadsheet.csv_writer(cases_handle)
        cases_csv.writerow(EM_CASE_COLUMNS)
        for case in self.cases:
            cases_csv.writerow([case.get(c, "") for c in EM_CASE_COLUMNS])
        events_csv = spreadsheet.csv_writer(events_handle)
        events_csv.writerow(EM_EVENT_COLUMNS)
        events_csv.writerows(self.events)


# --- Public operations ---------------------------------------------------------


def default_end() -> date:
    """Today (UK date) by the one clock, so ``TRIAGE_NOW`` pins demos too."""
    return clock.to_local(clock.now()).date()


def write_demo_files(
    folder: str | Path,
    *,
    seed: int = 7,
    intel: int = DEFAULT_INTEL,
    em: int = DEFAULT_EM,
    end: date | None = None,
) -> DemoFiles:
    """Write the four canonical extracts into ``folder``; deterministic per arguments."""
    if intel < 0 or em < 0:
        raise ValueError("sizes must be zero or more")
    end = end or default_end()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / name for kind, name in FILE_NAMES.items()}
    rng = random.Random(seed)
    em_writer = _EmWriter(random.Random(rng.getrandbits(64)), em, end)
    intel_writer = _IntelWriter(random.Random(rng.getrandbits(64)), intel, end)
    em_writer.build()
    with (
        open(paths["em-cases"], "w", encoding="utf-8", newline="") as cases,
        open(paths["em-events"], "w", encoding="utf-8", newline="") as events,
    ):
        em_writer.write(cases, events)
    with (
        open(paths["intel"], "w", encoding="utf-8", newline="") as items,
        open(paths["outcomes"], "w", encoding="utf-8", newline="") as outcomes,
    ):
        intel_writer.write(items, outcomes)
    counts = dict(intel_writer.stats)
    counts.update({f"em_{k}": v for k, v in em_writer.stats.items()})
    return DemoFiles(folder, paths, counts, end)


# The demo data is made by Triage, not by a person: its imports are recorded
# under this name (with an officer's right to import), never a user's.
DEMO_LOADER = Actor("triage (demo data)", frozenset({"officer"}))


def load_demo_files(
    db: Database, files: DemoFiles, job: Job | None = None
) -> dict[str, dict[str, int]]:
    """Import the extracts in dependency order through the real importer.

    A cancel between files raises ``Cancelled`` whose ``partial`` is what was
    imported so far (each file is its own transaction)."""
    from triage.imports.importer import import_file  # the importer pulls in the whole schema

    job = job_or_silent(job)
    # Each file's share of the import is its share of the bytes.
    sizes = {kind: max(files.paths[kind].stat().st_size, 1) for kind in IMPORT_ORDER}
    total = sum(sizes.values())
    done = 0
    imported: dict[str, dict[str, int]] = {}
    for kind in IMPORT_ORDER:
        job.check("demo data cancelled", partial=imported)
        part = job.part(done / total, (done + sizes[kind]) / total)
        part.progress(0.0, f"importing {files.paths[kind].name}")
        result = import_file(db, kind, files.paths[kind], job=part, actor=DEMO_LOADER)
        done += sizes[kind]
        imported[kind] = {
            "rows_read": result.rows_read,
            "inserted": result.inserted,
            "updated": result.updated,
            "quarantined": result.quarantined,
            "batch_id": result.batch_id,
        }
    job.progress(1.0, "demo data loaded")
    return imported


def fill_database(
    db: Database,
    *,
    seed: int = 7,
    intel: int = DEFAULT_INTEL,
    em: int = DEFAULT_EM,
    end: date | None = None,
    out: str | Path | None = None,
    job: Job | None = None,
) -> DemoSummary:
    """Generate the demo extracts (into ``out`` or a temporary folder) and import them
    (generation is the first 30% of the job, the import the rest)."""
    import time as timer

    began = timer.perf_counter()
    job = job_or_silent(job)
    job.progress(0.0, "generating demo extracts")
    if out is not None:
        files = write_demo_files(out, seed=seed, intel=intel, em=em, end=end)
        imported = load_demo_files(db, files, job.part(0.3, 1.0))
    else:
        with tempfile.TemporaryDirectory(prefix="triage-demo-") as folder:
            files = write_demo_files(folder, seed=seed, intel=intel, em=em, end=end)
            imported = load_demo_files(db, files, job.part(0.3, 1.0))
    reviews = record_reviews(db, seed=seed, em=em, end=files.end or default_end())
    return DemoSummary(files, imported, timer.perf_counter() - began, reviews)


def record_reviews(db: Database, *, seed: int, em: int, end: date) -> int:
    """EM reviews recorded in Triage during the six months before ``end``'s month.

    Figure 14's 338 reviews that kept the tag on and 162 that ceased or
    varied it (at the default size). They fall on active cases whose last
    review is in those months, on the 3-monthly dates leading up to it (the
    last one always among them), so every case's ``last_review_at`` stays
    what the extract said and the 818 overdue reviews are untouched. A
    review on the day a representation was answered was triggered by it. No
    extract format carries reviews, so they are written here, after the
    import, each with its audit entry, in one transaction: recording them
    through ``em.casework.complete_review`` would take one each, on the
    app's first run.
    """
    from sqlalchemy import select

    from triage.em.models import EmReview
    from triage.store import audit
    from triage.store.models import EmCase, EmEvent

    rng = random.Random(f"{seed}:em-reviews")
    months = breach_months(end)
    first, last = months[0], end.replace(day=1)
    keep_on, varied = (round(n * em / DEFAULT_EM) for n in FIG14_REVIEWS)
    with db.transaction() as session:
        answered = {
            (case_id, clock.to_local(at).date())
            for case_id, at in session.execute(
                select(EmEvent.case_id, EmEvent.responded_at).where(
                    EmEvent.event_type == "representation_received",
                    EmEvent.responded_at.is_not(None),
                )
            )
            if at is not None  # always (the query's condition); narrows the type
        }
        chains = []
        for case_id, last_review, fitted in session.execute(
            select(EmCase.case_id, EmCase.last_review_at, EmCase.fitted_at)
            .where(
                EmCase.em_status == "active",
                EmCase.last_review_at.is_not(None),
                EmCase.fitted_at.is_not(None),
            )
            .order_by(EmCase.case_id)
        ):
            if last_review is None or fitted is None:  # never (the query's conditions)
                continue
            if not first <= last_review < last:
                continue
            fitted_on = clock.to_local(fitted).date()
            days, day = [], last_review
            while day > fitted_on and day >= first:
                days.append(day)
                day = add_months(day, -3)
            chains.append((case_id, days))
        rng.shuffle(chains)
        reviews: list[tuple[str, date]] = []
        for case_id, days in chains:
            room = keep_on + varied - len(reviews)
            if room <= 0:
                break
            reviews += [(case_id, day) for day in days[:room]]
        changed = set(rng.sample(range(len(reviews)), min(varied, len(reviews))))
        records, entries = [], []
        for n, (case_id, day) in enumerate(reviews):
            outcome = _weighted(rng, _VARIED_OUTCOMES) if n in changed else "continue"
            who = rng.choice(_CASEWORKER_NAMES)
            records.append(
                EmReview(
                    case_id=case_id,
                    completed_on=day,
                    trigger="representation" if (case_id, day) in answered else "scheduled",
                    outcome=outcome,
                    completed_by=who,
                    recorded_at=clock.start_of_local_day(day) + timedelta(hours=16),
                )
            )
            entries.append(
                {
                    "who": who,
                    "action": "em.review",
                    "entity": "em_case",
                    "entity_id": case_id,
                    "field": "review_outcome",
                    "new": outcome,
                }
            )
        session.add_all(records)
        audit.record_many(session, entries)
    return len(records)


#: First-run size: the full calibrated size builds in a few seconds (see
#: docs/demo-data.md), so the newcomer gets the real thing.
FIRST_RUN_INTEL = DEFAULT_INTEL
FIRST_RUN_EM = DEFAULT_EM


def create_demo_database(
    path: str | Path,
    *,
    seed: int = 7,
    intel: int | None = None,
    em: int | None = None,
    end: date | None = None,
    job: Job | None = None,
) -> DemoSummary:
    """Create (or fill) the database at ``path`` with demo data: the app's first run."""
    from triage.store.db import open_database

    db = open_database(Path(path))
    try:
        return fill_database(
            db,
            seed=seed,
            intel=FIRST_RUN_INTEL if intel is None else intel,
            em=FIRST_RUN_EM if em is None else em,
            end=end,
            job=job,
        )
    finally:
        db.close()


def copy_items(db: Database, items: int) -> int:
    """Grow the demo's intelligence items to ``items`` by copying them (intel
    ids suffixed ``-C1``, ``-C2``, ...), for trying the app, its tests and the
    benchmarks at scale in seconds; the number of items now.

    Copies keep every field but the id, so they rank, filter and count like
    the originals; they have no outcomes. Nothing else is copied."""
    from sqlalchemy import func, insert, select

    from triage.store.models import IntelItem

    columns = IntelItem.__table__.columns
    copied = [c for c in columns if c.name not in ("id", "intel_id")]
    originals = ~IntelItem.intel_id.like("%-C%")
    count = select(func.count()).select_from(IntelItem)
    copy = 0
    with db.transaction() as session:
        have = session.scalar(count) or 0
        while have < items:
            copy += 1
            rows = (
                select(IntelItem.intel_id + f"-C{copy}", *copied)
                .where(originals)
                .order_by(IntelItem.id)
                .limit(items - have)
            )
            session.execute(
                insert(IntelItem).from_select(["intel_id", *(c.name for c in copied)], rows)
            )
            before, have = have, session.scalar(count) or 0
            if have == before:
                break  # nothing to copy: an empty database stays empty
    return have
