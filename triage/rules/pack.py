"""Rule packs: a folder of TOML files, loaded, validated and versioned.

``load_pack`` reads every file, checks every rule and raises one ``PackError``
listing each problem as ``file: rule id: problem``; nothing is half-loaded, so
a caller that catches it keeps the pack it already had. A pack's version is
the SHA-256 of the canonical content of its files (comments and layout do not
count), stored with every ranking so any past rank can be reproduced.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from triage import packs, paths, vocab
from triage.intel import regions

FILES = (
    "buckets.toml",
    "campaigns.toml",
    "countries.toml",
    "organisation.toml",
    "priority.toml",
    "reasons.toml",
)

# What a rule may read: input name -> kind. Inputs are intel_item columns.
INPUTS: dict[str, str] = {
    "campaign": "text",
    "sector": "text",
    "region": "text",
    "team": "text",
    "allegation": "text",
    "business_name": "text",
    "postcode": "text",
    "persons_estimated": "int",
    "harm_flags": "flags",
    "subject_named": "bool",
    "subject_ref": "text",
    "whereabouts": "text",
    "nationality": "text",
    "source_type": "text",
    "grade_source": "int",
    "grade_intel": "text",
    "grade_handling": "text",
    "em_case_id": "text",
}
# Inputs whose values are a closed list: a rule naming another value is a typo.
VOCABULARY: dict[str, tuple[Any, ...]] = {
    "allegation": vocab.ALLEGATIONS,
    "whereabouts": vocab.WHEREABOUTS,
    "source_type": vocab.SOURCE_TYPES,
    "harm_flags": vocab.HARM_FLAGS,
    "grade_source": (1, 2, 3),
    "grade_intel": ("A", "B", "C", "D", "E"),
    "grade_handling": ("P", "C"),
}
TESTS = (
    "present",
    "equals",
    "one_of",
    "at_least",
    "any_flag",
    "active_campaign",
    "campaign_sector",
    "national_priority",
)
FACTOR_TYPES = (
    "flag_points",
    "value_points",
    "country_points",
    "corroboration",
    "freshness",
    "pass_on",
    "present",
)
ARRANGEMENTS = ("agreement", "limited", "none")
CAMPAIGN_KINDS = ("national", "local")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# One error type for every pack (``triage.packs``): raised once, naming each problem.
PackError = packs.PackError


@dataclass(frozen=True)
class Condition:
    input: str
    test: str
    value: Any = None
    values: tuple[Any, ...] = ()
    kind: str | None = None


@dataclass(frozen=True)
class BucketRule:
    id: str
    bucket: int
    label: str
    when: tuple[Condition, ...]


@dataclass(frozen=True)
class Campaign:
    code: str
    kind: str
    name: str
    sectors: tuple[str, ...]
    regions: tuple[str, ...]  # empty for national campaigns: every region
    starts: date
    ends: date

    def active_on(self, day: date) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True)
class Factor:
    id: str
    label: str
    type: str
    input: str | None = None
    points: dict[str, float] = field(default_factory=dict)
    max: float | None = None
    flag: str | None = None
    flag_on: tuple[str, ...] = ()
    by: str | None = None
    points_each: float = 0.0
    max_points: float = 0.0
    half_life_days: float = 0.0
    stale_after_days: int = 0
    hours: float = 0.0


@dataclass(frozen=True)
class Reason:
    code: str
    key: int
    label: str


@dataclass(frozen=True)
class Pack:
    folder: Path
    version: str
    rules: tuple[BucketRule, ...]
    campaigns: tuple[Campaign, ...]
    national_priorities: tuple[str, ...]
    factors: tuple[Factor, ...]
    countries: dict[str, str]  # ISO alpha-3 -> arrangement
    country_names: dict[str, str]
    reasons: tuple[Reason, ...]
    regions: tuple[regions.Region, ...]

    def active_campaigns(self, day: date, kind: str) -> list[Campaign]:
        return [c for c in self.campaigns if c.kind == kind and c.active_on(day)]

    def capacity(self, region: str, team: str | None = None) -> int:
        """Weekly capacity of a team, or of the whole region without a team."""
        for entry in self.regions:
            if entry.code == region:
                try:
                    return entry.team_capacity(team)
                except KeyError:
                    raise KeyError(f"no team {team!r} in region {region}") from None
        raise KeyError(f"no region {region!r}")


def default_folder() -> Path:
    return paths.bundled("rules", "intel")


def pack_version(data: dict[str, dict[str, Any]]) -> str:
    """SHA-256 over the parsed content of every file (so comments don't count)."""
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode())
        digest.update(json.dumps(data[name], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def load_pack(folder: str | Path | None = None) -> Pack:
    """Read and validate a pack; raise ``PackError`` naming every problem."""
    root = Path(folder) if folder else default_folder()
    loader = _Loader(root)
    pack = loader.load()
    loader.refuse_if_any()
    assert pack is not None
    return pack


class _Loader(packs.Checker):
    """Reads the pack's files and checks every rule (``triage.packs``' one
    validation path: every problem noted, then one refusal)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.root = root

    def load(self) -> Pack | None:
        data = {name: self.read_toml(self.root / name) for name in FILES}
        if self.problems:
            return None
        region_list = self.organisation(data["organisation.toml"])
        region_codes = {r.code for r in region_list}
        campaigns, priorities = self.campaigns(data["campaigns.toml"], region_codes)
        rules = self.buckets(data["buckets.toml"])
        countries, names = self.countries(data["countries.toml"])
        factors = self.factors(data["priority.toml"])
        reasons = self.reasons(data["reasons.toml"])
        if self.problems:
            return None
        return Pack(
            folder=self.root,
            version=pack_version(data),
            rules=rules,
            campaigns=campaigns,
            national_priorities=priorities,
            factors=factors,
            countries=countries,
            country_names=names,
            reasons=reasons,
            regions=region_list,
        )

    # -- organisation.toml ------------------------------------------------
    def organisation(self, data: dict[str, Any]) -> tuple[regions.Region, ...]:
        file = "organisation.toml"
        entries = data.get("region")
        if not isinstance(entries, list) or not entries:
            self.problem(file, "region", "needs at least one [[region]]")
            return ()
        out = []
        for n, entry in enumerate(entries, 1):
            code = entry.get("code")
            where = f"region {code or n}"
            if not isinstance(code, str) or not code:
                self.problem(file, where, "needs a text `code`")
                continue
            teams = []
            for team in entry.get("teams", []):
                capacity = team.get("capacity")
                if not isinstance(team.get("name"), str):
                    self.problem(file, where, "every team needs a text `name`")
                elif not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
                    self.problem(file, where, f"team {team['name']!r}: capacity must be >= 0")
                else:
                    teams.append(regions.Team(team["name"], capacity))
            out.append(
                regions.Region(
                    code=code,
                    name=str(entry.get("name", code)),
                    aliases=tuple(entry.get("aliases", ())),
                    teams=tuple(teams),
                )
            )
        return tuple(out)

    # -- campaigns.toml ---------------------------------------------------
    def campaigns(
        self, data: dict[str, Any], region_codes: set[str]
    ) -> tuple[tuple[Campaign, ...], tuple[str, ...]]:
        file = "campaigns.toml"
        priorities = data.get("national_priorities", {}).get("allegations")
        if not isinstance(priorities, list):
            self.problem(file, "national_priorities", "needs a list `allegations`")
            priorities = []
        for value in priorities:
            if value not in vocab.ALLEGATIONS:
                self.problem(file, "national_priorities", f"unknown allegation {value!r}")
        out: list[Campaign] = []
        seen: set[str] = set()
        for n, entry in enumerate(data.get("campaign", []), 1):
            code = entry.get("code")
            where = f"campaign {code or n}"
            if not isinstance(code, str) or not code:
                self.problem(file, where, "needs a text `code`")
                continue
            if code in seen:
                self.problem(file, where, "code used twice")
            seen.add(code)
            kind = entry.get("kind")
            if kind not in CAMPAIGN_KINDS:
                self.problem(file, where, f"kind must be national or local, not {kind!r}")
            starts, ends = entry.get("starts"), entry.get("ends")
            if not isinstance(starts, date) or not isinstance(ends, date):
                self.problem(file, where, "`starts` and `ends` must be dates (2026-01-31)")
                continue
            if ends < starts:
                self.problem(file, where, "ends before it starts")
            sectors = entry.get("sectors", [])
            if not isinstance(sectors, list) or not sectors:
                self.problem(file, where, "needs a non-empty list `sectors`")
                sectors = []
            covered = entry.get("regions", [])
            for region in covered:
                if region not in region_codes:
                    self.problem(file, where, f"unknown region {region!r} (organisation.toml)")
            if kind == "local" and not covered:
                self.problem(file, where, "a local campaign must list its regions")
            if kind == "national" and covered:
                self.problem(file, where, "a national campaign covers every region: regions = []")
            out.append(
                Campaign(
                    code=code,
                    kind=str(kind),
                    name=str(entry.get("name", code)),
                    sectors=tuple(sectors),
                    regions=tuple(covered),
                    starts=starts,
                    ends=ends,
                )
            )
        return tuple(out), tuple(priorities)

    # -- buckets.toml -----------------------------------------------------
    def buckets(self, data: dict[str, Any]) -> tuple[BucketRule, ...]:
        file = "buckets.toml"
        entries = data.get("rule")
        if not isinstance(entries, list) or not entries:
            self.problem(file, "rule", "needs at least one [[rule]]")
            return ()
        out: list[BucketRule] = []
        seen: set[str] = set()
        last_bucket = 0
        for n, entry in enumerate(entries, 1):
            rule_id = entry.get("id")
            where = f"rule {rule_id or f'#{n}'}"
            if not isinstance(rule_id, str) or not rule_id:
                self.problem(file, where, "needs a text `id`")
                rule_id = f"#{n}"
            if rule_id in seen:
                self.problem(file, where, "id used twice")
            seen.add(rule_id)
            bucket = entry.get("bucket")
            if not isinstance(bucket, int) or isinstance(bucket, bool) or not 1 <= bucket <= 6:
                self.problem(file, where, f"bucket must be 1-6, not {bucket!r}")
                bucket = 6
            elif bucket < last_bucket:
                # First match wins, so a rule listed below a lower bucket's
                # rules would make "why not one bucket higher" meaningless.
                self.problem(file, where, f"bucket {bucket} rule listed after bucket {last_bucket}")
            last_bucket = max(last_bucket, bucket)
            when = entry.get("when")
            if not isinstance(when, list):
                self.problem(file, where, "needs `when`, a list of conditions ([] for all)")
                when = []
            conditions = tuple(c for c in (self.condition(where, c) for c in when) if c is not None)
            out.append(BucketRule(rule_id, bucket, str(entry.get("label", rule_id)), conditions))
        if out and entries[-1].get("when") != []:
            self.problem(file, f"rule {out[-1].id}", "the last rule must have `when = []`")
        return tuple(out)

    def condition(self, where: str, raw: Any) -> Condition | None:
        file = "buckets.toml"
        if not isinstance(raw, dict):
            self.problem(file, where, f"condition {raw!r} is not a table")
            return None
        name, test = raw.get("input"), raw.get("test")
        if name not in INPUTS:
            self.problem(file, where, f"unknown input {name!r} (known: {', '.join(INPUTS)})")
            return None
        if test not in TESTS:
            self.problem(file, where, f"unknown test {test!r} (known: {', '.join(TESTS)})")
            return None
        kind = INPUTS[name]
        value, values = raw.get("value"), raw.get("values", [])
        if kind == "flags" and test in ("equals", "one_of"):
            self.problem(file, where, f"{name} is a list: test it with any_flag")
        if test == "equals":
            if not self.value_ok(name, value):
                self.problem(file, where, f"{name}: bad `value` {value!r} for a {kind} input")
        elif test in ("one_of", "any_flag"):
            if not isinstance(values, list) or not values:
                self.problem(file, where, f"{test} needs a non-empty list `values`")
                values = []
            for item in values:
                if not self.value_ok(name, item, element=True):
                    self.problem(file, where, f"{name}: bad value {item!r}")
            if test == "any_flag" and kind != "flags":
                self.problem(file, where, f"any_flag needs a list input, {name} is {kind}")
        elif test == "at_least":
            if kind != "int" or not isinstance(value, int | float) or isinstance(value, bool):
                self.problem(file, where, "at_least needs a number input and number `value`")
        elif test in ("active_campaign", "campaign_sector"):
            expected = "campaign" if test == "active_campaign" else "sector"
            if name != expected:
                self.problem(file, where, f"{test} reads `{expected}`, not {name!r}")
            if raw.get("kind") not in CAMPAIGN_KINDS:
                self.problem(file, where, f"{test} needs kind = national or local")
        elif test == "national_priority" and name != "allegation":
            self.problem(file, where, f"national_priority reads `allegation`, not {name!r}")
        return Condition(
            input=name,
            test=test,
            value=value,
            values=tuple(values),
            kind=raw.get("kind"),
        )

    @staticmethod
    def value_ok(name: str, value: Any, element: bool = False) -> bool:
        kind = INPUTS[name]
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str) and value != ""
        allowed = VOCABULARY.get(name)
        return ok and (allowed is None or value in allowed)

    # -- countries.toml ---------------------------------------------------
    def countries(self, data: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        file = "countries.toml"
        if data.get("illustrative") is not True and data.get("illustrative") is not False:
            self.problem(file, "illustrative", "say `illustrative = true` or false")
        arrangements, names = {}, {}
        for code, entry in data.get("country", {}).items():
            if not re.fullmatch(r"[A-Z]{3}", code):
                self.problem(file, f"country {code}", "codes are ISO 3166-1 alpha-3 (ALB)")
            arrangement = entry.get("arrangement") if isinstance(entry, dict) else None
            if arrangement not in ARRANGEMENTS:
                self.problem(
                    file, f"country {code}", f"arrangement must be one of {', '.join(ARRANGEMENTS)}"
                )
                continue
            arrangements[code] = arrangement
            names[code] = str(entry.get("name", code))
        return arrangements, names

    # -- priority.toml ----------------------------------------------------
    def factors(self, data: dict[str, Any]) -> tuple[Factor, ...]:
        file = "priority.toml"
        out: list[Factor] = []
        seen: set[str] = set()
        for n, raw in enumerate(data.get("factor", []), 1):
            factor_id = raw.get("id") or f"#{n}"
            where = f"factor {factor_id}"
            if factor_id in seen:
                self.problem(file, where, "id used twice")
            seen.add(factor_id)
            kind = raw.get("type")
            if kind not in FACTOR_TYPES:
                self.problem(
                    file, where, f"unknown type {kind!r} (known: {', '.join(FACTOR_TYPES)})"
                )
                continue
            flag = raw.get("flag")
            if flag is not None and not (isinstance(flag, str) and _NAME.match(flag)):
                self.problem(file, where, f"flag {flag!r} must be a lower_case name")
            factor = self.factor_body(where, kind, raw)
            if factor is None:
                continue
            flag_on = raw.get("flag_on", [])
            for value in flag_on:
                if kind == "country_points":
                    if value not in ARRANGEMENTS:
                        self.problem(file, where, f"flag_on: unknown arrangement {value!r}")
                elif factor.input and not self.value_ok(factor.input, value, element=True):
                    self.problem(file, where, f"flag_on: bad value {value!r}")
            if kind == "freshness" and any(f.type == "freshness" for f in out):
                self.problem(file, where, "only one freshness factor (it decides what is stale)")
            out.append(
                Factor(
                    id=str(factor_id),
                    label=str(raw.get("label", factor_id)),
                    type=kind,
                    flag=flag,
                    flag_on=tuple(flag_on),
                    **factor.__dict__,
                )
            )
        if not out:
            self.problem(file, "factor", "needs at least one [[factor]]")
        return tuple(out)

    def factor_body(self, where: str, kind: str, raw: dict[str, Any]) -> _Body | None:
        file = "priority.toml"

        def number(key: str, minimum: float = 0.0, positive: bool = False) -> float:
            value = raw.get(key)
            if not isinstance(value, int | float) or isinstance(value, bool):
                self.problem(file, where, f"`{key}` must be a number")
                return 0.0
            if value < minimum or (positive and value <= 0):
                self.problem(file, where, f"`{key}` must be {'> 0' if positive else '>= 0'}")
            return float(value)

        body = _Body()
        if kind in ("flag_points", "value_points", "present", "country_points"):
            name = "nationality" if kind == "country_points" else raw.get("input")
            if raw.get("input", name) != name or name not in INPUTS:
                self.problem(file, where, f"unknown input {raw.get('input')!r}")
                return None
            if kind == "flag_points" and INPUTS[name] != "flags":
                self.problem(file, where, f"flag_points needs a list input, {name} is not")
            if kind == "value_points" and INPUTS[name] == "flags":
                self.problem(file, where, f"{name} is a list: give it points with flag_points")
            body.input = name
            if kind == "present":
                body.points = {"": number("points")}
            else:
                points = raw.get("points")
                if not isinstance(points, dict) or not points:
                    self.problem(file, where, "needs a table `points`")
                    return None
                for key, value in points.items():
                    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                        # Negative points would let a missing value (0) outrank a known one.
                        self.problem(file, where, f"points for {key!r} must be a number >= 0")
                    elif kind == "country_points":
                        if key not in ARRANGEMENTS:
                            self.problem(file, where, f"unknown arrangement {key!r}")
                    else:
                        typed = int(key) if INPUTS[name] == "int" and key.isdigit() else key
                        if not self.value_ok(name, typed, element=True):
                            self.problem(file, where, f"{name}: bad value {key!r}")
                body.points = {
                    str(k): float(v)
                    for k, v in points.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                }
            if "max" in raw:
                body.max = number("max")
        elif kind == "corroboration":
            if raw.get("by") not in ("subject", "premises"):
                self.problem(file, where, "`by` must be subject or premises")
            body.by = raw.get("by")
            body.points_each = number("points_each")
            body.max = number("max")
        elif kind == "freshness":
            body.max_points = number("max_points")
            body.half_life_days = number("half_life_days", positive=True)
            stale = raw.get("stale_after_days")
            if not isinstance(stale, int) or isinstance(stale, bool) or stale <= 0:
                self.problem(file, where, "`stale_after_days` must be a whole number > 0")
                stale = 0
            body.stale_after_days = stale
        elif kind == "pass_on":
            body.hours = number("hours", positive=True)
        return body

    # -- reasons.toml -----------------------------------------------------
    def reasons(self, data: dict[str, Any]) -> tuple[Reason, ...]:
        file = "reasons.toml"
        out: list[Reason] = []
        keys: set[int] = set()
        for n, raw in enumerate(data.get("reason", []), 1):
            code = raw.get("code")
            where = f"reason {code or n}"
            if code not in vocab.REASON_CODES:
                self.problem(
                    file, where, f"unknown reason code (known: {', '.join(vocab.REASON_CODES)})"
                )
            key = raw.get("key")
            if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= 9:
                self.problem(file, where, "key must be 1-9")
            elif key in keys:
                self.problem(file, where, f"key {key} used twice")
            else:
                keys.add(key)
            out.append(
                Reason(str(code), key if isinstance(key, int) else 0, str(raw.get("label", code)))
            )
        if not out:
            self.problem(file, "reason", "needs at least one [[reason]]")
        return tuple(out)


@dataclass
class _Body:
    """The type-specific parts of a factor while it is being checked."""

    input: str | None = None
    points: dict[str, float] = field(default_factory=dict)
    max: float | None = None
    by: str | None = None
    points_each: float = 0.0
    max_points: float = 0.0
    half_life_days: float = 0.0
    stale_after_days: int = 0
    hours: float = 0.0
