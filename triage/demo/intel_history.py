"""Demo intelligence items and their tasking history (meetings, decisions and
outcomes), streamed to disk in received order: a million items need a few
bytes of state each."""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TextIO

from triage import spreadsheet
from triage.demo.calibration import (
    BUCKET_SPLIT,
    FIG9_CELLS,
    LOCAL_CAMPAIGNS,
    NATIONAL_CAMPAIGNS,
    PLAIN_SECTORS,
    SAFEGUARDING_FLAGS,
    THREAT_FLAGS,
    fig9_counts,
    flag_set,
    harm_probability,
    weighted,
)
from triage.demo.extracts import INTEL_COLUMNS, OUTCOME_COLUMNS, stamp, unstamp
from triage.em.deadlines import add_months
from triage.intel import regions

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


class IntelWriter:
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
        bucket = weighted(rng, BUCKET_SPLIT[group])
        team_name, capacity, weekday, leaders = weighted(rng, self.teams[region])
        row: dict[str, str] = {
            "intel_id": f"INT-{position + 1:07d}",
            "received_at": stamp(received),
            # Mess: a few extracts spell the region out in full.
            "region": self.region_names[region] if rng.random() < 0.03 else region,
            "team": "" if rng.random() < 0.05 else team_name,
            "source_type": weighted(
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
                weighted(rng, (("1", 2), ("2", 5), ("3", 3))),
                weighted(rng, (("A", 1), ("B", 3), ("C", 3.5), ("D", 1.5), ("E", 1))),
                "C" if rng.random() < 0.1 else "P",
            )
        row["whereabouts"] = weighted(
            rng, (("known", 35), ("last_known", 40), ("unknown", 15), ("", 10))
        )
        row["postcode"] = self._postcode(region) if rng.random() < 0.93 else ""
        self.hide_sector = False
        getattr(self, f"_bucket{bucket}")(row, region)
        flags = flag_set(row.get("harm_flags", ""))
        if rng.random() < 0.08:
            flags.add(rng.choice(SAFEGUARDING_FLAGS))
        if rng.random() < 0.04:
            flags.add("drugs")
        row["harm_flags"] = ";".join(sorted(flags))
        corroborated = self._corroborate(row, region, bucket)
        if self.hide_sector:
            row["sector"] = ""  # mess, only where the bucket does not need it
        if row.get("subject_named") == "true" and rng.random() < 0.6:
            row["nationality"] = weighted(rng, self.nationalities)
        elif rng.random() < 0.2:
            row["nationality"] = weighted(rng, self.nationalities)
        row["bucket"] = "" if rng.random() < 0.05 else str(bucket)
        row["passed_at"] = self._passed(received)
        row["summary"] = self._summary(row)
        row["source_system"] = weighted(rng, (("IMS", 6), ("CID", 2), ("Atlas", 1), ("", 1)))
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
        row["allegation"] = weighted(rng, (("illegal_working", 8), ("modern_slavery", 1), ("", 1)))
        row["persons_estimated"] = str(rng.randrange(1, 16)) if rng.random() < 0.9 else ""
        self._subject(row, "true" if rng.random() < 0.3 else "false")

    # Bucket 3: a named business where five or more people may be found.
    def _bucket3(self, row: dict[str, str], region: str) -> None:
        rng = self.rng
        if rng.random() < 0.2:
            # A national-campaign sector, but not illegal working: no bucket 1.
            self._business(row, rng.choice(NATIONAL_CAMPAIGNS)[1])
            row["allegation"] = weighted(
                rng, (("modern_slavery", 1), ("other", 1), ("document_fraud", 1))
            )
        else:
            self._business(row, self._plain_sector(region))
            row["allegation"] = weighted(
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
            row["allegation"] = weighted(
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
        row["allegation"] = weighted(
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
            row["allegation"] = weighted(
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
        return stamp(passed)

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
        passed = unstamp(row["passed_at"]) if row["passed_at"] else received
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
        return weighted(
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
                bool(flag_set(row["harm_flags"]) & set(SAFEGUARDING_FLAGS))
                or row.get("allegation") == "modern_slavery"
            )
            split = (
                (("referral", 6), ("arrest", 2.5), ("removal", 1.5))
                if safeguarding
                else (("arrest", 5.5), ("removal", 2.5), ("referral", 2))
            )
            result = weighted(rng, split)
        else:
            result = weighted(rng, _NOT_HARM_RESULTS)
        return result, result_at.isoformat()
