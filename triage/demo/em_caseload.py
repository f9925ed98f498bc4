"""The demo EM caseload: cases and their events (small enough to build in
memory), and the EM reviews recorded in Triage after the import."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TextIO

from triage import clock, spreadsheet
from triage.demo.calibration import (
    DEFAULT_EM,
    EM_STATUS_COUNTS,
    FIG2,
    FIG2_OTHERS,
    FIG14_LEGAL,
    FIG14_REVIEWS,
    GENDER_COUNTS,
    INDUCTION_COUNTS,
    LEGAL_REPLY_DAYS,
    OTHER_BREACHES,
    OTHER_NATIONALITIES,
    OUT_OF_CONTACT_SHARE,
    REVIEW_OVERDUE,
    breach_months,
    fig6_counts,
    largest_remainder,
    review_due,
    weighted,
)
from triage.demo.extracts import EM_CASE_COLUMNS, EM_EVENT_COLUMNS, stamp, unstamp
from triage.em.deadlines import add_months

if TYPE_CHECKING:  # the store loads only when demo data goes into a database
    from triage.store.db import Database

# An EM event before it is written: (started, case index, type, ended, detail, replied).
RawEvent = tuple[datetime, int, str, datetime | None, str, datetime | None]

# Figure 14's reviews that ceased or varied the tag, by outcome (weights ours),
# and who completed them.
_VARIED_OUTCOMES = (("curfew_removed", 6), ("varied", 3), ("curfew_amended", 1))
_CASEWORKER_NAMES = ("R. Hall", "S. Patel", "T. Owens", "U. Reid", "V. Shah", "W. Young")


def _labels(rng: random.Random, pairs: Sequence[tuple[str, int]], n: int) -> list[str]:
    """Exactly proportional labels (largest remainder), shuffled."""
    counts = largest_remainder([c for _, c in pairs], n)
    out = [label for (label, _), k in zip(pairs, counts, strict=True) for _ in range(k)]
    rng.shuffle(out)
    return out


class EmWriter:
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
                "region": weighted(rng, (("LSE", 45), ("NMWSW", 52), ("SNI", 3))),
                "nationality": rng.choice(OTHER_NATIONALITIES)
                if nationalities[i] == "other"
                else nationalities[i],
                "harm_level": weighted(
                    rng, (("very_high", 10), ("high", 30), ("medium", 40), ("low", 20))
                ),
                "deportation_category": weighted(
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
            case["bail_granted_at"] = stamp(self._moment(bail_day))
            if status in ("active", "suspended"):
                case["device"] = "fitted"
                case["held_at"] = "community"
            elif status == "awaiting_fit":
                case["device"] = "none"
                case["held_at"] = "community"
            else:
                case["device"] = "none"
                case["held_at"] = weighted(rng, (("community", 6), ("irc", 3), ("prison", 1)))
            if fitted is not None and status != "ceased":
                fitted_at = self._moment(fitted)
                case["fitted_at"] = stamp(fitted_at)
                case["_fitted"] = fitted_at.isoformat()
            case["last_review_at"] = last_review.isoformat() if last_review else ""
            if status in ("active", "suspended"):
                if i in out_of_contact:
                    lost = self.end_moment - timedelta(hours=rng.uniform(7 * 24 + 6, 60 * 24))
                    case["last_contact_at"] = stamp(lost)
                else:
                    case["last_contact_at"] = stamp(
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
                kind = weighted(rng, OTHER_BREACHES)
                case = pick(at, fitted, fitted_times)
                ended = at + timedelta(hours=rng.uniform(0.2, 3)) if rng.random() < 0.6 else None
                raw.append((at, case if case is not None else 0, kind, ended, "", None))
        self._legal(raw, months)
        self._contacts(raw)
        raw.sort(key=lambda e: (e[0], e[1], e[2]))
        for number, (at, case, kind, ended, note, responded) in enumerate(raw, start=1):
            due = (
                stamp(at + timedelta(days=LEGAL_REPLY_DAYS[kind]))
                if kind in LEGAL_REPLY_DAYS
                else ""
            )
            self.events.append(
                [
                    f"EV-{number:07d}",
                    self.cases[case]["case_id"],
                    kind,
                    stamp(at),
                    stamp(ended) if ended else "",
                    due,
                    note,
                    stamp(responded) if responded else "",
                ]
            )
        self.stats["events"] = len(self.events)
        self.stats["breaches"] = sum(sum(month.values()) for month in per_month)

    def _contact_until(self, index: int) -> datetime:
        """The case's last contact; events after it would contradict it."""
        contact = self.cases[index].get("last_contact_at")
        return unstamp(contact) if contact else datetime.max

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
            lost = unstamp(contact) < self.end_moment - timedelta(days=7)
            if lost or rng.random() < 0.1:
                raw.append((unstamp(contact), index, "contact_made", None, "", None))

    def write(self, cases_handle: TextIO, events_handle: TextIO) -> None:
        cases_csv = spreadsheet.csv_writer(cases_handle)
        cases_csv.writerow(EM_CASE_COLUMNS)
        for case in self.cases:
            cases_csv.writerow([case.get(c, "") for c in EM_CASE_COLUMNS])
        events_csv = spreadsheet.csv_writer(events_handle)
        events_csv.writerow(EM_EVENT_COLUMNS)
        events_csv.writerows(self.events)


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
            outcome = weighted(rng, _VARIED_OUTCOMES) if n in changed else "continue"
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
