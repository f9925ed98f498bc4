"""Regions and teams, looked up from configuration (rules/intel/organisation.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from triage import paths


@dataclass(frozen=True)
class Team:
    name: str
    capacity: int


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    aliases: tuple[str, ...]
    teams: tuple[Team, ...]

    @property
    def capacity(self) -> int:
        return sum(team.capacity for team in self.teams)

    def team_capacity(self, team: str | None) -> int:
        """Weekly capacity of one team, or of the whole region without a team;
        ``KeyError`` if the region has no such team."""
        if team is None:
            return self.capacity
        for member in self.teams:
            if member.name == team:
                return member.capacity
        raise KeyError(team)


def organisation_file() -> Path:
    return paths.bundled("rules", "intel", "organisation.toml")


@cache
def load_regions(path: Path | None = None) -> tuple[Region, ...]:
    source = path or organisation_file()
    with open(source, "rb") as handle:
        data = tomllib.load(handle)
    return tuple(
        Region(
            code=entry["code"],
            name=entry["name"],
            aliases=tuple(entry.get("aliases", ())),
            teams=tuple(Team(t["name"], int(t["capacity"])) for t in entry.get("teams", ())),
        )
        for entry in data["region"]
    )


@cache
def lookup_table(path: Path | None = None) -> dict[str, str]:
    """Every accepted spelling (case-folded) -> region code."""
    table: dict[str, str] = {}
    for region in load_regions(path):
        for spelling in (region.code, region.name, *region.aliases):
            table[spelling.casefold()] = region.code
    return table


def region_code(text: str, path: Path | None = None) -> str:
    """A region code or name -> the code; ValueError names the bad value."""
    try:
        return lookup_table(path)[text.strip().casefold()]
    except KeyError:
        known = ", ".join(r.code for r in load_regions(path))
        raise ValueError(f"unknown region {text!r} (known: {known})") from None


def region_by_code(code: str) -> Region:
    for region in load_regions():
        if region.code == code:
            return region
    raise KeyError(code)
