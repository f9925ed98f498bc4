"""The release helpers that need no build: the SBOM writer and the ICU data
stub the spec compiles (the real artefacts are checked by packaging/check.sh)."""

from __future__ import annotations

import hashlib
import json
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from test_packaging import ROOT, run_spec

from triage.ops import about

SBOM = runpy.run_path(str(ROOT / "packaging" / "sbom.py"))


def test_sbom_names_the_artefact_its_components_and_locked_hashes(tmp_path):
    artefact = tmp_path / "triage-desk-1.0-linux-x86_64.tar.gz"
    artefact.write_bytes(b"not really a tarball")
    folder = tmp_path / "about"
    folder.mkdir()
    (folder / "build_info.json").write_text(
        json.dumps({"version": "1.0", "commit": "abc123", "built": "2026-12-06"})
    )
    about.write_components(str(folder / "components.json"))
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "numpy==2.0.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64
        + "\n    # via scikit-learn\nscikit-learn==1.5.0 \\\n    --hash=sha256:" + "c" * 64 + "\n"
    )  # fmt: skip

    bom = SBOM["sbom"](artefact, folder, lock)

    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.5")
    subject = bom["metadata"]["component"]
    assert subject["name"] == artefact.name and subject["version"] == "1.0"
    assert subject["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(artefact.read_bytes()).hexdigest()}
    ]
    by_name = {c["name"].lower().replace("_", "-"): c for c in bom["components"]}
    assert len(by_name) == len(about.runtime_components())
    numpy = by_name["numpy"]
    assert numpy["purl"] == f"pkg:pypi/numpy@{numpy['version']}"
    assert [h["content"] for h in numpy["hashes"]] == ["a" * 64, "b" * 64]
    assert all(c["licenses"][0]["license"]["name"] for c in bom["components"])
    assert "purl" not in by_name["triage"]  # not from PyPI
    json.dumps(bom)  # serialisable as it stands


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("objdump") is None, reason="no cc")
def test_icu_data_is_swapped_for_a_stub_with_the_same_entry_point(tmp_path):
    icu = tmp_path / "libicudata.so.73"
    icu.write_bytes(b"\x7fELF stand-in for 31 MB of data")
    binaries = [
        ("PySide6/Qt/lib/libicudata.so.73", str(icu), "BINARY"),
        ("libicudata.so.73", "PySide6/Qt/lib/libicudata.so.73", "SYMLINK"),
        ("PySide6/Qt/lib/libicuuc.so.73", "/qt/libicuuc.so.73", "BINARY"),
    ]
    spec = run_spec(ROOT, tmp_path / "dist")

    swapped = spec["icu_data_stub"](binaries, tmp_path / "stub")

    stub = Path(swapped[0][1])
    assert stub.parent == tmp_path / "stub" and stub.stat().st_size < 100_000
    assert swapped[1:] == binaries[1:]
    exported = subprocess.run(["objdump", "-T", str(stub)], capture_output=True, text=True)
    assert "icudt73_dat" in exported.stdout
    assert "GLIBC_" not in exported.stdout  # runs with any glibc
