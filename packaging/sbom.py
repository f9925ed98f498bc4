"""Print a CycloneDX 1.5 SBOM (JSON) for one release artefact.

    python packaging/sbom.py ARTEFACT ABOUT_FOLDER LOCK_FILE > ARTEFACT.cdx.json

The artefact itself (its SHA-256) is the SBOM's subject; its components are
the bundled distributions with their versions and licences, from the
``components.json`` that packaging/build.sh also bundles for Help > About, and
the SHA-256 of every file the lock allows for each (pip installed one of them,
with --require-hashes). Written with the standard library: the format is
small and fixed, and the build environment needs nothing more for it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

SPEC_VERSION = "1.5"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_hashes(lock: Path) -> dict[str, list[str]]:
    """Distribution name -> the SHA-256 hashes the lock file pins for it."""
    hashes: dict[str, list[str]] = {}
    current = None
    for line in lock.read_text(encoding="utf-8").splitlines():
        pinned = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if pinned:
            current = normalise(pinned.group(1))
            hashes[current] = []
        for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            if current:
                hashes[current].append(digest)
    return hashes


def component(entry: dict[str, str], hashes: dict[str, list[str]]) -> dict[str, object]:
    name, version = entry["name"], entry["version"]
    key = normalise(name)
    purl = None if key in ("python", "triage") else f"pkg:pypi/{key}@{version}"
    made: dict[str, object] = {
        "type": "application" if key == "python" else "library",
        "bom-ref": purl or f"{key}@{version}",
        "name": name,
        "version": version,
        "licenses": [{"license": {"name": entry["licence"]}}],
    }
    if purl:
        made["purl"] = purl
    if hashes.get(key):
        made["hashes"] = [{"alg": "SHA-256", "content": h} for h in hashes[key]]
    return made


def sbom(artefact: Path, about: Path, lock: Path) -> dict[str, object]:
    build = json.loads((about / "build_info.json").read_text(encoding="utf-8"))
    entries = json.loads((about / "components.json").read_text(encoding="utf-8"))
    hashes = locked_hashes(lock)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "component": {
                "type": "application",
                "bom-ref": artefact.name,
                "name": artefact.name,
                "version": build["version"],
                "description": f"Triage desktop app, commit {build['commit']}",
                "hashes": [{"alg": "SHA-256", "content": sha256(artefact)}],
            },
        },
        "components": [component(entry, hashes) for entry in entries],
    }


if __name__ == "__main__":
    artefact, about, lock = (Path(arg) for arg in sys.argv[1:4])
    json.dump(sbom(artefact, about, lock), sys.stdout, indent=1)
    print()
