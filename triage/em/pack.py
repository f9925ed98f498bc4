"""The EM rule pack (``rules/em/pack.toml``) loaded into typed settings.

The pack is data: numbers and orders the Hub can change without code. Bad
values stop loading with a message naming the file, the key and the problem.
The content hash (``version``) is stored with every result made from it.
"""

from __future__ import annotations

import hashlib
import tomllib
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


class PackError(packs.PackError, ValueError):
    """The pack file is unusable; the message names file, key and problem."""


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


def _get(data: dict[str, Any], path: Path, dotted: str, kind: type | tuple[type, ...]) -> Any:
    node: object = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise PackError(f"{path}: missing key {dotted!r}")
        node = node[part]
    if isinstance(node, bool) and kind is not bool:
        raise PackError(f"{path}: {dotted} must be a number, not {node!r}")
    if not isinstance(node, kind):
        raise PackError(f"{path}: {dotted} has the wrong type ({node!r})")
    return node


def _positive(path: Path, dotted: str, value: float) -> float:
    if value <= 0:
        raise PackError(f"{path}: {dotted} must be positive, not {value!r}")
    return value


def load_pack(path: Path | None = None) -> EmPack:
    """Read and check a pack file (default: the bundled one)."""
    source = Path(path) if path else pack_file()
    try:
        raw = source.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as error:
        raise PackError(f"{source}: cannot read ({error.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PackError(f"{source}: not valid TOML ({error})") from None
    number = (int, float)

    def pos(key: str) -> float:
        return _positive(source, key, float(_get(data, source, key, number)))

    harm_band = dict(_get(data, source, "recommendation.harm_band", dict))
    harm_points = {k: float(v) for k, v in _get(data, source, "priority.harm_points", dict).items()}
    for name, table in (
        ("recommendation.harm_band", harm_band),
        ("priority.harm_points", harm_points),
    ):
        missing = [t for t in HARM_ORDER if t not in table]
        if missing:
            raise PackError(f"{source}: {name} lacks {', '.join(missing)}")
    for tier, band in harm_band.items():
        if band not in BANDS:
            raise PackError(f"{source}: recommendation.harm_band.{tier} = {band!r} (use {BANDS})")
    points = [harm_points[t] for t in HARM_ORDER]
    if any(a <= b for a, b in zip(points, points[1:], strict=False)):
        raise PackError(
            f"{source}: priority.harm_points must fall strictly along the harm order "
            + " > ".join(HARM_ORDER)
        )
    minimum = {
        k: int(v) for k, v in _get(data, source, "recommendation.minimum_months", dict).items()
    }
    if set(minimum) != set(BANDS):
        raise PackError(f"{source}: recommendation.minimum_months needs exactly {BANDS}")
    unsuitable = tuple(_get(data, source, "recommendation.fitted_unsuitable", list))
    for value in unsuitable:
        if value not in vocab.VULNERABILITIES:
            raise PackError(f"{source}: recommendation.fitted_unsuitable: unknown {value!r}")

    kinds: dict[str, Kind] = {}
    for name, entry in _get(data, source, "kinds", dict).items():
        workstream = entry.get("workstream") if isinstance(entry, dict) else None
        if workstream not in WORKSTREAMS:
            raise PackError(f"{source}: kinds.{name}.workstream must be one of {WORKSTREAMS}")
        kinds[name] = Kind(
            name,
            workstream,
            float(_get(data, source, f"kinds.{name}.points", number)),
            str(entry.get("label", name)),
        )
    missing = [k for k in REQUIRED_KINDS if k not in kinds]
    if missing:
        raise PackError(f"{source}: [kinds] lacks {', '.join(missing)}")

    high_max = int(_get(data, source, "recommendation.high_compliance_max", int))
    lowest_min = int(_get(data, source, "recommendation.lowest_compliance_min", int))
    if not 0 <= high_max < lowest_min:
        raise PackError(
            f"{source}: need 0 <= recommendation.high_compliance_max < lowest_compliance_min"
        )
    return EmPack(
        path=source,
        version=hashlib.sha256(raw).hexdigest()[:12],
        ij_release_hours=pos("deadlines.ij_release_hours"),
        review_months=int(pos("deadlines.review_months")),
        representation_window_days=pos("deadlines.representation_window_days"),
        due_soon_hours=pos("deadlines.due_soon_hours"),
        review_horizon_days=pos("deadlines.review_horizon_days"),
        out_of_contact_hours=pos("contact.out_of_contact_hours"),
        battery_window_hours=pos("battery.window_hours"),
        battery_threshold_hours=pos("battery.threshold_hours"),
        warning_letter_every=int(pos("escalation.warning_letter_every")),
        prosecution_referral_after=int(pos("escalation.prosecution_referral_after")),
        non_fitted_available=bool(_get(data, source, "recommendation.non_fitted_available", bool)),
        harm_band=harm_band,
        long_sentence_months=int(pos("recommendation.long_sentence_months")),
        high_compliance_max=high_max,
        lowest_compliance_min=lowest_min,
        fitted_unsuitable=unsuitable,
        minimum_months=minimum,
        harm_points=harm_points,
        overdue_points=float(_get(data, source, "priority.overdue_points", number)),
        due_soon_points=float(_get(data, source, "priority.due_soon_points", number)),
        kinds=kinds,
    )


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
