"""The EM rule pack (``rules/em/pack.toml``) loaded into typed settings.

The pack is data: numbers and orders the Hub can change without code. Bad
values stop loading with a message naming the file, the key and the problem.
The content hash (``version``) is stored with every result made from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage import packs, paths, vocab

WORKSTREAMS = ("releases", "legal", "breaches", "reviews", "prosecutions")
# The order of harm tiers: the four harm levels, then the deportation
# categories below them [004 ¶5.54].
HARM_ORDER = ("very_high", "high", "medium", "low", "dwa", "do_breach", "eea")
BANDS = ("low", "medium", "high")
REQUIRED_KINDS = (
    "release_ij",
    "release_sos",
    "out_of_contact",
    "strap_tamper",
    "full_curfew_missed",
    "jr_lodged",
    "pap_received",
    "representation_received",
    "other_breach",
    "warning_letter",
    "review",
    "review_representation",
    "battery_report",
    "partial_curfew_missed",
    "prosecution_referral",
    "absence_15min",
    "battery",
)


# One error type for every pack (``triage.packs``): raised once, naming each problem.
PackError = packs.PackError


@dataclass(frozen=True)
class Kind:
    name: str
    workstream: str
    points: float
    label: str


@dataclass(frozen=True)
class EmPack:
    path: Path
    version: str
    ij_release_hours: float
    review_months: int
    representation_window_days: float
    due_soon_hours: float
    review_horizon_days: float
    out_of_contact_hours: float
    battery_window_hours: float
    battery_threshold_hours: float
    warning_letter_every: int
    prosecution_referral_after: int
    non_fitted_available: bool
    harm_band: dict[str, str]
    long_sentence_months: int
    high_compliance_max: int
    lowest_compliance_min: int
    fitted_unsuitable: tuple[str, ...]
    minimum_months: dict[str, int]
    harm_points: dict[str, float]
    overdue_points: float
    due_soon_points: float
    kinds: dict[str, Kind]


def pack_file() -> Path:
    return paths.bundled("rules", "em", "pack.toml")


def load_pack(path: Path | None = None) -> EmPack:
    """Read and check a pack file (default: the bundled one); ``PackError``
    lists every problem."""
    source = Path(path) if path else pack_file()
    check = packs.Checker(source)
    data = check.read_toml(source)
    check.refuse_if_any()  # unreadable: nothing else to say
    file = source.name

    def number(key: str, *, positive: bool = True) -> float:
        value = check.value(data, file, key, (int, float))
        if value is None:
            return 0.0
        if positive and value <= 0:
            check.problem(file, key, f"must be positive, not {value!r}")
        return float(value)

    def table(key: str) -> dict[str, Any]:
        return dict(check.value(data, file, key, dict) or {})

    harm_band = table("recommendation.harm_band")
    harm_points = {k: float(v) for k, v in table("priority.harm_points").items()}
    for name, tiers in (
        ("recommendation.harm_band", harm_band),
        ("priority.harm_points", harm_points),
    ):
        missing = [t for t in HARM_ORDER if t not in tiers]
        if missing and tiers:
            check.problem(file, name, f"lacks {', '.join(missing)}")
    for tier, band in harm_band.items():
        if band not in BANDS:
            check.problem(file, f"recommendation.harm_band.{tier}", f"{band!r} (use {BANDS})")
    points = [harm_points[t] for t in HARM_ORDER if t in harm_points]
    if any(a <= b for a, b in zip(points, points[1:], strict=False)):
        check.problem(
            file,
            "priority.harm_points",
            "must fall strictly along the harm order " + " > ".join(HARM_ORDER),
        )
    minimum = {k: int(v) for k, v in table("recommendation.minimum_months").items()}
    if set(minimum) != set(BANDS):
        check.problem(file, "recommendation.minimum_months", f"needs exactly {BANDS}")
    unsuitable = tuple(check.value(data, file, "recommendation.fitted_unsuitable", list) or ())
    for value in unsuitable:
        if value not in vocab.VULNERABILITIES:
            check.problem(file, "recommendation.fitted_unsuitable", f"unknown {value!r}")

    kinds: dict[str, Kind] = {}
    for name, entry in table("kinds").items():
        workstream = entry.get("workstream") if isinstance(entry, dict) else None
        if workstream not in WORKSTREAMS:
            check.problem(file, f"kinds.{name}.workstream", f"must be one of {WORKSTREAMS}")
            continue
        kinds[name] = Kind(
            name,
            workstream,
            number(f"kinds.{name}.points", positive=False),
            str(entry.get("label", name)),
        )
    missing = [k for k in REQUIRED_KINDS if k not in kinds]
    if missing:
        check.problem(file, "kinds", f"lacks {', '.join(missing)}")

    high_max = int(number("recommendation.high_compliance_max", positive=False))
    lowest_min = int(number("recommendation.lowest_compliance_min", positive=False))
    if not 0 <= high_max < lowest_min:
        check.problem(
            file,
            "recommendation",
            "needs 0 <= high_compliance_max < lowest_compliance_min",
        )
    pack = EmPack(
        path=source,
        version=hashlib.sha256(source.read_bytes()).hexdigest()[:12],
        ij_release_hours=number("deadlines.ij_release_hours"),
        review_months=int(number("deadlines.review_months")),
        representation_window_days=number("deadlines.representation_window_days"),
        due_soon_hours=number("deadlines.due_soon_hours"),
        review_horizon_days=number("deadlines.review_horizon_days"),
        out_of_contact_hours=number("contact.out_of_contact_hours"),
        battery_window_hours=number("battery.window_hours"),
        battery_threshold_hours=number("battery.threshold_hours"),
        warning_letter_every=int(number("escalation.warning_letter_every")),
        prosecution_referral_after=int(number("escalation.prosecution_referral_after")),
        non_fitted_available=bool(
            check.value(data, file, "recommendation.non_fitted_available", bool)
        ),
        harm_band=harm_band,
        long_sentence_months=int(number("recommendation.long_sentence_months")),
        high_compliance_max=high_max,
        lowest_compliance_min=lowest_min,
        fitted_unsuitable=unsuitable,
        minimum_months=minimum,
        harm_points=harm_points,
        overdue_points=number("priority.overdue_points", positive=False),
        due_soon_points=number("priority.due_soon_points", positive=False),
        kinds=kinds,
    )
    check.refuse_if_any()
    return pack


def default_pack() -> EmPack:
    """The bundled EM pack, under ``triage.packs``' one cache rule."""
    return packs.in_force("em", [pack_file()], load_pack)


def harm_tier(harm_level: str | None, deportation_category: str | None) -> str | None:
    """A case's place in the harm order: its harm level, else its category."""
    if harm_level:
        return harm_level
    if deportation_category in ("dwa", "do_breach", "eea"):
        return deportation_category
    return None


def describe(pack: EmPack) -> list[str]:
    """The EM rule pack as Markdown lines a non-specialist can read (the
    governance pack): the deadlines, escalation and the device advice it applies."""
    minimum = ", ".join(f"{band} {months} months" for band, months in pack.minimum_months.items())
    unsuitable = ", ".join(v.replace("_", " ") for v in pack.fitted_unsuitable) or "none"
    lines = [
        f"- A person released on Immigration Judge bail must be fitted within "
        f"{pack.ij_release_hours:g} hours; work is due soon {pack.due_soon_hours:g} hours "
        "before its deadline.",
        f"- Each case is reviewed every {pack.review_months} months (reviews due within "
        f"{pack.review_horizon_days:g} days are shown); a representation is answered within "
        f"{pack.representation_window_days:g} days.",
        f"- No contact for {pack.out_of_contact_hours:g} hours makes a case out of contact.",
        f"- Battery failures are consolidated: {pack.battery_threshold_hours:g} hours within "
        f"{pack.battery_window_hours:g} hours make one breach report.",
        f"- A warning letter is raised every {pack.warning_letter_every} breaches; a "
        f"prosecution referral after {pack.prosecution_referral_after}.",
        f"- Device advice: minimum monitoring {minimum}; a fitted device is not advised for "
        f"people with these vulnerabilities: {unsuitable}; non-fitted devices "
        f"{'are' if pack.non_fitted_available else 'are not'} available.",
        "- The caseload is ordered by these kinds of work, most urgent first: "
        + "; ".join(k.label for k in sorted(pack.kinds.values(), key=lambda k: -k.points))
        + ".",
    ]
    return lines
