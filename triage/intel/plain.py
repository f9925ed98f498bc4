"""The rule trace in plain English: what a team leader would say out loud.

``summary`` turns one item's trace (``ranking.explain``) into a paragraph:
the bucket and why, the age and what freshness still gives, harm,
whereabouts and the returns route. ``why_below`` compares an item with the
one ranked just above it. Both read only the trace, so the CLI's ``explain
intel`` and the app say exactly the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from triage.intel import ranking
from triage.store.db import Database
from triage.store.models import IntelItem

HARM_INPUTS = ("harm_flags", "allegation")
WHEREABOUTS_WORDS = {
    "known": "the subject's whereabouts are known",
    "last_known": "only a last-known address is held",
    "unknown": "the subject's whereabouts are unknown",
}
ARRANGEMENT_WORDS = {
    "agreement": "has a returns agreement",
    "limited": "has limited returns arrangements",
    "none": "has no returns arrangement",
}


def _points(value: float) -> str:
    return f"{value:.1f} point{'' if round(value, 1) == 1 else 's'}"


def _words(code: Any) -> str:
    if isinstance(code, bool):  # a yes/no input read out ("subject named is yes")
        return "yes" if code else "no"
    return str(code).replace("_", " ")


def _list(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _factors(
    trace: dict[str, Any], *, input_name: str | None = None, kind: str | None = None
) -> Iterator[dict[str, Any]]:
    for factor in trace.get("priority", []):
        read = factor.get("read") or {}
        if (input_name is None or input_name in read) and (kind is None or factor["type"] == kind):
            yield factor


def _sum(factors: Iterable[dict[str, Any]]) -> float:
    return sum(float(f["points"]) for f in factors)


def _age_sentence(trace: dict[str, Any]) -> str:
    age = int(trace.get("age_days") or 0)
    days = "1 day" if age == 1 else f"{age} days"
    fresh = list(_factors(trace, kind="freshness"))
    sentence = f"It is {days} old"
    if fresh:
        sentence += f", so freshness adds {_points(_sum(fresh))}"
    if trace.get("stale"):
        sentence += "; it is stale and must be re-checked before it can be accepted"
    return sentence + "."


def _harm_sentence(trace: dict[str, Any]) -> str:
    harm = [
        f
        for f in trace.get("priority", [])
        if any(name in (f.get("read") or {}) for name in HARM_INPUTS)
    ]
    flags = (trace.get("inputs") or {}).get("harm_flags") or []
    allegation = (trace.get("inputs") or {}).get("allegation")
    points = _sum(harm)
    if points <= 0:
        return "No harm is recorded."
    named = [_words(flag) for flag in flags]
    if allegation and any(f["points"] > 0 and "allegation" in f["read"] for f in harm):
        named.append(f"the allegation of {_words(allegation)}")
    return f"Harm: {_list(named) or 'recorded'} ({_points(points)})."


def _whereabouts_sentence(trace: dict[str, Any]) -> str:
    factors = list(_factors(trace, input_name="whereabouts"))
    value = (trace.get("inputs") or {}).get("whereabouts")
    if value is None:
        return "Whereabouts are not recorded."
    text = WHEREABOUTS_WORDS.get(str(value), f"whereabouts: {_words(value)}")
    return f"{text[0].upper()}{text[1:]}" + (f" ({_points(_sum(factors))})." if factors else ".")


def _returns_sentence(trace: dict[str, Any]) -> str:
    factors = list(_factors(trace, kind="country_points"))
    if not factors:
        return ""
    factor = factors[0]
    arrangement = (factor.get("read") or {}).get("arrangement")
    if arrangement is None:
        return "The returns route is not known (no nationality, or not in the country table)."
    country = str(factor.get("detail") or "").split(":")[0] or "The subject's country"
    words = ARRANGEMENT_WORDS.get(str(arrangement), f"returns: {_words(arrangement)}")
    return f"{country} {words} ({_points(_sum(factors))})."


def summary(trace: dict[str, Any]) -> str:
    """One paragraph: bucket and why, age and freshness, harm, whereabouts,
    returns route, and the other points that make up the score."""
    label = str(trace.get("bucket_label") or "").rstrip(".")
    opening = (
        f"{trace.get('intel_id')} is in bucket {trace.get('bucket')} because: "
        f"{label[:1].lower()}{label[1:]}."
    )
    said = {
        id(f)
        for f in trace.get("priority", [])
        if f["type"] in ("freshness", "country_points")
        or any(name in (f.get("read") or {}) for name in (*HARM_INPUTS, "whereabouts"))
    }
    others = [
        f"{f['label'].split(' (')[0].lower()} {f['points']:.1f}"
        for f in trace.get("priority", [])
        if id(f) not in said and f["points"] > 0
    ]
    sentences = [
        opening,
        _age_sentence(trace),
        _harm_sentence(trace),
        _whereabouts_sentence(trace),
        _returns_sentence(trace),
    ]
    tail = f"Score within the bucket {float(trace.get('score') or 0):.1f}"
    if others:
        tail += f" (also {_list(others)})"
    sentences.append(tail + ".")
    return " ".join(s for s in sentences if s)


def why_below(trace: dict[str, Any], above: dict[str, Any]) -> str:
    """Why ``trace``'s item ranks below ``above``, the item just above it."""
    mine, theirs = int(trace["bucket"]), int(above["bucket"])
    name = above.get("intel_id")
    if mine > theirs:
        return (
            f"Below {name} because {name} is in a higher bucket ({theirs}, "
            f"{str(above.get('bucket_label')).rstrip('.').lower()}) and buckets come first."
        )
    if mine < theirs:  # a sort by another column; the rank order is not in force
        return f"{name} is shown above but is in a lower bucket ({theirs} against {mine})."
    score, other = float(trace["score"]), float(above["score"])
    by_id = {f["id"]: float(f["points"]) for f in above.get("priority", [])}
    gaps = sorted(
        (
            (by_id.get(f["id"], 0.0) - float(f["points"]), f["label"].split(" (")[0].lower())
            for f in trace.get("priority", [])
        ),
        reverse=True,
    )
    ahead = [f"{label} ({gap:+.1f})" for gap, label in gaps if gap > 0.05][:3]
    behind = [f"{label} ({-gap:+.1f} here)" for gap, label in reversed(gaps) if gap < -0.05][:2]
    if abs(other - score) < 1e-9:
        return (
            f"Same bucket ({mine}) and the same score ({score:.1f}) as {name}: "
            "the older item is worked first, then the lower intel id."
        )
    text = f"Same bucket ({mine}) as {name}, but {name} scores {other:.1f} against {score:.1f}"
    if ahead:
        text += f": {name} gets more for {_list(ahead)}"
    if behind:
        text += f", though this item gets more for {_list(behind)}"
    return text + "."


def item_above(session: Session, item_id: int) -> int | None:
    """The open item ranked just above ``item_id`` in its region's open queue
    (None for the first, or for an item that is not open)."""
    item = session.get(IntelItem, item_id)
    if item is None:
        return None
    ids = ranking.queue_ids(session, region=item.region)
    try:
        place = ids.index(item_id)
    except ValueError:
        return None
    return ids[place - 1] if place > 0 else None


def explain(
    db: Database,
    item_id: int,
    *,
    above_id: int | None = None,
    find_above: bool = False,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """``ranking.explain`` with the words added: ``summary`` (the paragraph)
    and ``below`` (``{"intel_id", "why"}`` for the item above, else None).

    The item above is ``above_id`` when the caller shows a list (the app's
    row above), or with ``find_above`` the one above in the region's queue."""
    found = ranking.explain(db, item_id, as_of=as_of)
    found["summary"] = summary(found)
    found["below"] = None
    if above_id is None and find_above:
        with db.transaction() as session:
            above_id = item_above(session, item_id)
    if above_id is not None:
        above = ranking.explain(db, above_id, as_of=as_of)
        found["below"] = {"intel_id": above["intel_id"], "why": why_below(found, above)}
    return found


# -- the whole pack in words (the governance pack, the Rules screen) ------------------

CONDITION_WORDS = {
    "present": "{input} is given",
    "equals": "{input} is {value}",
    "one_of": "{input} is one of {values}",
    "at_least": "{input} is at least {value}",
    "any_flag": "{input} includes any of {values}",
    "active_campaign": "{input} is an active {kind} campaign",
    "campaign_sector": "{input} is a sector of an active {kind} campaign",
    "national_priority": "{input} is a national priority",
}


def condition_text(condition: Any) -> str:
    """One bucket-rule condition as a sentence part ("sector is a sector of ...")."""
    template = CONDITION_WORDS.get(
        condition.test, "{input} " + _words(condition.test) + " {values}"
    )
    values = condition.values or ((condition.value,) if condition.value is not None else ())
    return template.format(
        input=_words(condition.input),
        value=_words(condition.value),
        values=_list([_words(v) for v in values]) or "nothing",
        kind=condition.kind or "",
    ).strip()


def factor_points(factor: Any) -> str:
    """What a priority factor gives, in words."""
    if factor.type == "present":
        given = factor.points.get("", 0.0)
        flag = f", flagged {_words(factor.flag)}" if factor.flag else ""
        return f"{given:g} points when {_words(factor.input)} is given{flag}"
    if factor.points:
        text = ", ".join(f"{_words(k)} {v:g}" for k, v in factor.points.items())
        return text + (f" (at most {factor.max:g})" if factor.max is not None else "")
    bits = []
    if factor.points_each:
        bits.append(f"{factor.points_each:g} each")
    if factor.half_life_days:
        bits.append(f"{factor.max_points:g} halving every {factor.half_life_days:g} days")
    if factor.stale_after_days:
        bits.append(f"stale after {factor.stale_after_days} days")
    if factor.hours:
        bits.append(f"flagged when passed on after {factor.hours:g} hours")
    if factor.max is not None:
        bits.append(f"at most {factor.max:g}")
    return "; ".join(bits) or "a flag only"


def describe_pack(pack: Any) -> list[str]:
    """The intelligence rule pack as Markdown lines a non-specialist can read."""
    lines = [
        "An item goes to the bucket of the first rule below whose conditions all hold. A "
        "condition whose information is missing is not evaluated and does not hold, so "
        "missing information can only leave an item in a lower bucket.",
        "",
    ]
    for rule in pack.rules:
        conditions = _list([condition_text(c) for c in rule.when]) or "always (every other item)"
        lines.append(
            f"{len(lines) - 1}. **Bucket {rule.bucket}**: {rule.label}, when {conditions}."
        )
    lines += [
        "",
        "Within a bucket, items are ordered by the sum of these points (a missing value "
        "gives none):",
        "",
    ]
    lines += [f"- {f.label}: {factor_points(f)}." for f in pack.factors]
    national = _list([_words(p) for p in pack.national_priorities]) or "none"
    lines += ["", f"National priorities: {national}."]
    return lines
