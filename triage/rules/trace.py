"""The single-item trace: the rule pack evaluated in Python for one item.

It says, for every bucket rule and priority factor, which inputs it read,
whether it matched, was not matched or was not evaluated (an input missing),
and the points it gave; then the bucket, the score and "why not one bucket
higher". It must always agree with the SQL evaluator (``triage.rules.engine``);
``tests/test_rules_trace.py`` holds the two together.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from triage import clock, vocab
from triage.rules.engine import corroboration_count, epoch, whole_days
from triage.rules.pack import INPUTS, BucketRule, Condition, Factor, Pack
from triage.store.models import IntelItem

MATCHED, NOT_MATCHED, NOT_EVALUATED = "matched", "not matched", "not evaluated"


def missing(name: str, value: Any) -> bool:
    """A value not supplied: None, or blank text (SQLite ``trim`` strips spaces)."""
    if value is None:
        return True
    return INPUTS.get(name) in ("text", "flags") and str(value).strip(" ") == ""


def _shown(name: str, value: Any) -> Any:
    """A value as the trace reports it read: flags are stored ';a;b;' for
    matching, and shown 'a;b' as the extracts write them."""
    if INPUTS.get(name) == "flags" and isinstance(value, str):
        return value.strip(";")
    return value


def _has_flag(stored: str, flag: str) -> bool:
    return f";{flag};" in stored


class Evaluator:
    """Evaluates one pack for items as of one instant."""

    def __init__(self, pack: Pack, as_of: datetime) -> None:
        self.pack = pack
        self.as_of = as_of
        self.day: date = clock.to_local(as_of).date()

    # -- bucket rules ---------------------------------------------------------
    def needs(self, cond: Condition, region: str | None = None) -> str:
        """What the condition asks for, in words."""
        name = cond.input
        if cond.test == "present":
            return f"{name} given"
        if cond.test == "equals":
            shown = str(cond.value).lower() if isinstance(cond.value, bool) else cond.value
            return f"{name} = {shown}"
        if cond.test == "one_of":
            return f"{name} one of {', '.join(map(str, cond.values))}"
        if cond.test == "at_least":
            return f"{name} at least {cond.value}"
        if cond.test == "any_flag":
            return f"{name} include any of {', '.join(cond.values)}"
        if cond.test == "national_priority":
            return f"{name} a national priority ({', '.join(self.pack.national_priorities)})"
        campaigns = self.pack.active_campaigns(self.day, str(cond.kind))
        if cond.kind == "local" and region is not None:
            campaigns = [c for c in campaigns if region in c.regions]
        if cond.test == "active_campaign":
            codes = ", ".join(c.code for c in campaigns) or "none active"
            return f"{name} an active {cond.kind} campaign ({codes})"
        sectors = ", ".join(sorted({s for c in campaigns for s in c.sectors})) or "none active"
        where = f" in {region}" if cond.kind == "local" and region else ""
        return f"{name} a sector of an active {cond.kind} campaign{where} ({sectors})"

    def condition(self, cond: Condition, item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        value: Any = item.get(cond.input)
        read = {cond.input: _shown(cond.input, value)}
        region = item.get("region")
        if cond.kind == "local":
            read["region"] = region
        if missing(cond.input, value):
            return NOT_EVALUATED, read
        if cond.test == "present":
            ok = True
        elif cond.test == "equals":
            ok = value == cond.value
        elif cond.test == "one_of":
            ok = value in cond.values
        elif cond.test == "at_least":
            ok = value >= cond.value
        elif cond.test == "any_flag":
            ok = any(_has_flag(value, flag) for flag in cond.values)
        elif cond.test == "national_priority":
            ok = value in self.pack.national_priorities
        else:
            campaigns = self.pack.active_campaigns(self.day, str(cond.kind))
            if cond.test == "active_campaign":
                ok = any(
                    c.code == value and (cond.kind == "national" or region in c.regions)
                    for c in campaigns
                )
            else:
                ok = any(
                    value in c.sectors and (cond.kind == "national" or region in c.regions)
                    for c in campaigns
                )
        return (MATCHED if ok else NOT_MATCHED), read

    def rule(self, rule: BucketRule, item: dict[str, Any]) -> dict[str, Any]:
        conditions = []
        for cond in rule.when:
            result, read = self.condition(cond, item)
            conditions.append(
                {
                    "input": cond.input,
                    "test": cond.test,
                    "needs": self.needs(cond, item.get("region")),
                    "read": read,
                    "result": result,
                }
            )
        results = {c["result"] for c in conditions}
        if NOT_MATCHED in results:
            overall = NOT_MATCHED
        elif NOT_EVALUATED in results:
            overall = NOT_EVALUATED
        else:
            overall = MATCHED
        return {
            "id": rule.id,
            "bucket": rule.bucket,
            "label": rule.label,
            "result": overall,
            "conditions": conditions,
        }

    # -- priority factors -------------------------------------------------------
    def age_days(self, item: dict[str, Any]) -> int:
        return whole_days(epoch(self.as_of) - epoch(item["received_at"]))

    def stale(self, item: dict[str, Any], limit: int) -> bool:
        if self.age_days(item) <= limit:
            return False
        checked = item.get("rechecked_at")
        return not (
            checked is not None
            and epoch(checked) <= epoch(self.as_of)
            and whole_days(epoch(self.as_of) - epoch(checked)) <= limit
        )

    def factor(self, f: Factor, item: dict[str, Any]) -> dict[str, Any]:
        """One factor's trace: result, points, flag and what it read."""
        points, flag, detail = 0.0, False, ""
        read: dict[str, Any]
        if f.type in ("flag_points", "value_points", "present", "country_points"):
            name = str(f.input)
            value: Any = item.get(name)
            read = {name: _shown(name, value)}
            if missing(name, value):
                result = NOT_EVALUATED
            elif f.type == "flag_points":
                hits = [k for k in f.points if _has_flag(value, k)]
                for k, v in f.points.items():
                    points += v if k in hits else 0.0
                if f.max is not None:
                    points = min(f.max, points)
                result = MATCHED if hits else NOT_MATCHED
                flag = any(_has_flag(value, k) for k in (f.flag_on or tuple(f.points)))
                detail = (
                    ", ".join(f"{k} {f.points[k]:g}" for k in hits) or "none of the listed flags"
                )
            elif f.type == "value_points":
                key = str(value)
                points = f.points.get(key, 0.0)
                result = MATCHED if key in f.points else NOT_MATCHED
                flag = key in f.flag_on if f.flag_on else key in f.points
                detail = f"{name} = {key}"
            elif f.type == "country_points":
                arrangement = self.pack.countries.get(value)
                read["arrangement"] = arrangement
                if arrangement is None:
                    result, detail = NOT_EVALUATED, f"{value} is not in the country table"
                else:
                    points = f.points.get(arrangement, 0.0)
                    result = MATCHED
                    flag = not f.flag_on or arrangement in f.flag_on
                    detail = f"{self.pack.country_names.get(value, value)}: {arrangement}"
            else:  # present
                points, result, flag = f.points[""], MATCHED, True
        elif f.type == "corroboration":
            others = item.get(f"{f.by}_others")
            read = {"other_items": others}
            if others is None:
                result = NOT_EVALUATED
                detail = "no subject reference" if f.by == "subject" else "no postcode and business"
            else:
                points = min(float(f.max or 0.0), f.points_each * others)
                result = MATCHED if others > 0 else NOT_MATCHED
                flag = others > 0
                detail = f"{others} other item(s) about the same {f.by}"
        elif f.type == "freshness":
            age = self.age_days(item)
            read = {"received_at": item["received_at"], "rechecked_at": item.get("rechecked_at")}
            points = f.max_points * 0.5 ** (max(age, 0) / f.half_life_days)
            result = MATCHED
            flag = self.stale(item, f.stale_after_days)
            detail = f"{age} day(s) old; stale after {f.stale_after_days}"
        else:  # pass_on
            passed, received = item.get("passed_at"), item["received_at"]
            read = {"received_at": received, "passed_at": passed}
            if passed is None:
                result = NOT_EVALUATED
            else:
                late = epoch(passed) - epoch(received) > int(f.hours * 3600)
                result, flag = (MATCHED if late else NOT_MATCHED), late
                detail = f"passed {(epoch(passed) - epoch(received)) / 3600:.1f} h after receipt"
        return {
            "id": f.id,
            "label": f.label,
            "type": f.type,
            "read": read,
            "result": result,
            "points": points,
            "flag": f.flag if (flag and f.flag) else None,
            "detail": detail,
        }

    # -- the whole item -----------------------------------------------------------
    def evaluate(self, item: dict[str, Any]) -> dict[str, Any]:
        rules = [self.rule(r, item) for r in self.pack.rules]
        chosen = next(n for n, r in enumerate(rules) if r["result"] == MATCHED)
        for n, rule in enumerate(rules):
            rule["first_match"] = n == chosen
            rule["after_first_match"] = n > chosen
        factors = [self.factor(f, item) for f in self.pack.factors]
        score = 0.0
        for factor in factors:
            score += factor["points"]
        fresh = [f for f in self.pack.factors if f.type == "freshness"]
        stale = bool(fresh) and self.stale(item, fresh[0].stale_after_days)
        bucket = rules[chosen]["bucket"]
        return {
            "bucket": bucket,
            "bucket_rule": rules[chosen]["id"],
            "bucket_label": rules[chosen]["label"],
            "score": score,
            "flags": sorted({f["flag"] for f in factors if f["flag"]}),
            "stale": stale,
            "age_days": self.age_days(item),
            "bucket_rules": rules,
            "priority": factors,
            "why_not_higher": self.why_not_higher(bucket, rules),
        }

    def why_not_higher(self, bucket: int, rules: list[dict[str, Any]]) -> dict[str, Any] | None:
        higher = [r["bucket"] for r in rules if r["bucket"] < bucket]
        if not higher:
            return None
        target = max(higher)
        return {
            "bucket": target,
            "rules": [
                {
                    "id": r["id"],
                    "label": r["label"],
                    "unmet": [c for c in r["conditions"] if c["result"] != MATCHED],
                }
                for r in rules
                if r["bucket"] == target
            ],
        }


ITEM_FIELDS = (*INPUTS, "received_at", "passed_at", "rechecked_at")


def load_item(session: Session, item_id: int, as_of: datetime) -> dict[str, Any] | None:
    """The inputs of one item, with its corroboration counts as of ``as_of``."""
    row = session.get(IntelItem, item_id)
    if row is None:
        return None
    item = {name: getattr(row, name) for name in ITEM_FIELDS}
    item.update(item_id=row.id, intel_id=row.intel_id, upstream_bucket=row.upstream_bucket)
    # The same SQL as the batch evaluator, for this one row.
    counts = ", ".join(f"{corroboration_count(by, 'i')} AS {by}" for by in ("subject", "premises"))
    found = (
        session.connection()
        .execute(
            text(f"SELECT {counts} FROM intel_item i WHERE i.id = :id"),
            {"id": row.id, "as_of": clock.sql_timestamp(as_of)},
        )
        .one()
    )
    item["subject_others"], item["premises_others"] = found
    return item


def explain_item(session: Session, pack: Pack, item_id: int, as_of: datetime) -> dict[str, Any]:
    """The full trace of one item (KeyError if there is no such item)."""
    item = load_item(session, item_id, as_of)
    if item is None:
        raise KeyError(f"no intelligence item with id {item_id}")
    found = Evaluator(pack, as_of).evaluate(item)
    inputs = {name: item[name] for name in ITEM_FIELDS}
    inputs["harm_flags"] = vocab.split_list(item["harm_flags"]) if item["harm_flags"] else None
    return {
        "item_id": item["item_id"],
        "intel_id": item["intel_id"],
        "as_of": as_of,
        "rules_version": pack.version,
        "upstream_bucket": item["upstream_bucket"],
        "inputs": inputs,
        **found,
    }
