"""What ``--version`` and Help > About report, for support: which build this
is, which schema, rule packs and model it works with, and the licences of the
components it carries.

A packaged build carries two files written by ``packaging/build.sh``, bundled
at the bundle's root: ``build_info.json`` (version, commit, build date) and
``components.json`` (every bundled Python distribution with its version and
licence, made by ``runtime_components`` below in the build environment). From
a source tree both are worked out on the spot instead.
"""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from triage import __version__, paths
from triage.em.pack import default_pack
from triage.harm import registry
from triage.intel.ranking import pack_in_force
from triage.packs import PackError
from triage.store import db as database_module
from triage.store.db import Database

BUILD_INFO = "build_info.json"
COMPONENTS = "components.json"
NOT_PACKAGED = "not a packaged build"
# The distribution and the extra whose requirements make up the app.
ROOT_DISTRIBUTION, ROOT_EXTRAS = "triage", ("ui",)


@dataclass(frozen=True)
class BuildInfo:
    version: str
    commit: str
    built: str

    def line(self) -> str:
        return f"triage {self.version} (commit {self.commit}, built {self.built})"


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str


@dataclass(frozen=True)
class About:
    build: BuildInfo
    schema_revision: str
    schema_head: str
    intel_rules: str
    em_rules: str
    model: str
    components: list[Component]

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) rows, in the order the About box shows them."""
        return [
            ("Version", self.build.version),
            ("Commit", self.build.commit),
            ("Build date", self.build.built),
            ("Database schema", f"{self.schema_revision} (this version's: {self.schema_head})"),
            ("Intelligence rule pack", self.intel_rules),
            ("EM rule pack", self.em_rules),
            ("Harm model", self.model),
        ]

    def text(self) -> str:
        """Everything as plain text, for "copy" and support requests."""
        lines = [f"{label}: {value}" for label, value in self.facts()]
        lines.append("Components:")
        lines += [f"  {c.name} {c.version} ({c.licence})" for c in self.components]
        return "\n".join(lines)


def build_info() -> BuildInfo:
    """The bundled build record, else this source tree's version and commit."""
    recorded = paths.bundled(BUILD_INFO)
    if recorded.is_file():
        data = json.loads(recorded.read_text(encoding="utf-8"))
        return BuildInfo(str(data["version"]), str(data["commit"]), str(data["built"]))
    return BuildInfo(__version__, source_commit(), NOT_PACKAGED)


def source_commit() -> str:
    """The source tree's git commit (short), or "unknown" outside a checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=paths.bundle_root(),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def components() -> list[Component]:
    """The bundled components list, else the one this environment has."""
    recorded = paths.bundled(COMPONENTS)
    if recorded.is_file():
        return [Component(**entry) for entry in json.loads(recorded.read_text(encoding="utf-8"))]
    return runtime_components()


def runtime_components() -> list[Component]:
    """Python, and every distribution the app needs (triage[ui] and what
    those require, markers evaluated here), with its version and licence."""
    from packaging.requirements import Requirement

    found: dict[str, Component] = {}
    pending: list[tuple[str, tuple[str, ...]]] = [(ROOT_DISTRIBUTION, ROOT_EXTRAS)]
    while pending:
        name, extras = pending.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement not installed: not bundled either
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = Component(dist.metadata["Name"], dist.version, licence(dist.metadata))
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras or ("",))
            )
            if wanted:
                pending.append((requirement.name, tuple(requirement.extras)))
    python = Component("Python", platform.python_version(), "PSF-2.0")
    return [python, *sorted(found.values(), key=lambda c: c.name.lower())]


def licence(meta: Any) -> str:
    """A distribution's licence: its SPDX expression, a short License field,
    else its trove classifiers."""
    expression = meta.get("License-Expression")
    if expression:
        return str(expression)
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= 60 and field.upper() != "UNKNOWN":
        return field
    trove = [
        c.split(" :: ")[-1]
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::") and c != "License :: OSI Approved"
    ]
    return ", ".join(trove) or "see the component's own licence file"


def write_components(path: str) -> None:
    """Write ``runtime_components()`` as JSON (packaging/build.sh bundles it)."""
    entries = [asdict(c) for c in runtime_components()]
    with open(path, "w", encoding="utf-8") as file:
        json.dump(entries, file, indent=1)


def about(db: Database) -> About:
    """The About box's facts for the open database ``db``."""
    try:
        intel = pack_in_force().version
    except PackError as error:
        intel = f"cannot be read ({error})"
    try:
        em = default_pack().version
    except PackError as error:
        em = f"cannot be read ({error})"
    with db.sessions() as session:
        active = registry.active_model(session)
        model = (
            f"{active.id} ({active.classifier}, trained {active.created_at:%Y-%m-%d})"
            if active
            else "none active"
        )
    return About(
        build=build_info(),
        schema_revision=database_module.schema_revision(db.engine) or "none",
        schema_head=database_module.head_revision(db.engine) or "none",
        intel_rules=intel,
        em_rules=em,
        model=model,
        components=components(),
    )


if __name__ == "__main__":  # python -m triage.ops.about FILE (packaging/build.sh)
    import sys

    write_components(sys.argv[1])
