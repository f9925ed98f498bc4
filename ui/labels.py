"""Words shown for stored codes: buckets, flags, decisions, results.

Meaning is always carried by text (and a symbol); colour only repeats it, so
the app reads the same on a washed-out projector or to a colour-blind user.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from triage import clock


def use_time_zone(name: str) -> None:
    """Show times in ``name`` from now on (a zone the settings have checked):
    on screens and in what the core writes for this app (exports, minutes)."""
    clock.use_display_zone(name)


def local_time(moment: datetime) -> datetime:
    """A stored (naive UTC) time in the display time zone."""
    return clock.to_display(moment)


def zone_label() -> str:
    """How column headers name the display time zone."""
    return clock.display_zone_label()


def esc(value: Any) -> str:
    """A value as HTML text for a rich-text label: escaped, None as empty."""
    return html.escape("" if value is None else str(value))


BUCKETS = {
    1: "National campaign",
    2: "Local campaign",
    3: "Business",
    4: "Harm",
    5: "Named, NTB priority",
    6: "Other",
}

# The NAO Figure 9 meaning of each bucket (tooltips, the rules screen).
BUCKET_MEANINGS = {
    1: "National campaign: a sector targeted nationally (construction, care, catering)",
    2: "Local campaign: a regional priority",
    3: "Upper/mid-tier threat: a business where numerous people may be encountered",
    4: "Harm: a credible threat (FNO, weapon); usually needs police coordination",
    5: "National Tasking Board priority with a named subject, limited harm",
    6: "No known alignment with national priorities, no named subject",
}

# Background tints: high-priority buckets warm, low cool. Text stays dark.
BUCKET_TINTS = {
    1: "#f8d4cf",
    2: "#fbe3c8",
    3: "#fdf0c2",
    4: "#f3d0e6",
    5: "#dbe7f5",
    6: "#e8ebee",
}

# Symbols chosen from those common fonts (DejaVu, Segoe UI Symbol) all have.
FLAGS = {
    "police_coordination": "⚑ police",
    "safeguarding": "✚ safeguarding",
    "stale": "⚠ stale",
    "late_pass": "» passed late",
    "corroborated": "◆ corroborated",
    "em_bridge": "● EM case",
}

DECISIONS = {
    "accepted": "✔ Accepted",
    "rejected": "✘ Rejected",
    "not_discussed": "– Not discussed",
    None: "· Undecided",
}

RESULTS = {
    "no_trace": "No trace",
    "encountered_no_action": "Encountered, no action",
    "arrest": "Arrest",
    "removal": "Removal",
    "referral": "Referral",
    "other": "Other",
}


def bucket_text(bucket: int | None) -> str:
    if bucket is None:
        return "unranked"
    return f"{bucket} · {BUCKETS.get(bucket, '?')}"


def flag_text(flags: list[str] | tuple[str, ...] | None) -> str:
    return "  ".join(FLAGS.get(flag, flag.replace("_", " ")) for flag in flags or ())


QA_OUTCOMES = {"probably_correct": "Probably correct", "probably_wrong": "Probably wrong"}


def qa_review_html(review: dict[str, Any]) -> str:
    """One QA review as the item's history shows it to the decision maker."""
    verdict = "satisfactory" if review["satisfactory"] else "unsatisfactory"
    errors = ", ".join(
        e["severity"]
        + (f" ({e['special_policy'].replace('_', ' ')})" if e["special_policy"] else "")
        for e in review["errors"]
    )
    outcome = QA_OUTCOMES.get(review["outcome"], review["outcome"] or "")
    feedback = esc(review["feedback"]).replace(chr(10), "<br>") if review["feedback"] else ""
    return (
        f"<p><b>{esc(review['score'])}</b> ({verdict}) for the decision of "
        f"{esc(review['decided_on'])} ({esc(review['decision'])}), reviewed by "
        f"{esc(review['reviewer'])}: outcome {esc(outcome.lower())}; "
        f"errors: {esc(errors or 'none')}." + (f"<br>{feedback}" if feedback else "") + "</p>"
    )
