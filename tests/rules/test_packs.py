"""One cache rule for both rule packs (triage.packs)."""

from __future__ import annotations

import os
import shutil

import pytest

from triage import packs
from triage.em import pack as em_pack
from triage.intel import ranking
from triage.rules import pack as intel_pack


def test_a_pack_is_read_once_and_again_when_its_file_changes(tmp_path):
    source = tmp_path / "pack.toml"
    source.write_text("a = 1\n", encoding="utf-8")
    reads: list[str] = []

    def load() -> str:
        reads.append(source.read_text(encoding="utf-8"))
        return reads[-1]

    assert packs.in_force("test-pack", [source], load) == "a = 1\n"
    assert packs.in_force("test-pack", [source], load) == "a = 1\n"
    assert len(reads) == 1
    source.write_text("a = 22\n", encoding="utf-8")
    os.utime(source, ns=(1, 10**18))  # a different modification time whatever the clock
    assert packs.in_force("test-pack", [source], load) == "a = 22\n"
    assert len(reads) == 2


def test_a_pack_that_fails_is_not_put_in_force(tmp_path):
    source = tmp_path / "pack.toml"
    source.write_text("good", encoding="utf-8")
    assert packs.in_force("test-failing", [source], lambda: "good") == "good"
    source.write_text("bad!", encoding="utf-8")
    os.utime(source, ns=(1, 10**18))

    def broken() -> str:
        raise packs.PackError("pack.toml", ["pack.toml: bad"])

    with pytest.raises(packs.PackError):
        packs.in_force("test-failing", [source], broken)
    packs.put_in_force("test-failing", [source], "kept")
    assert packs.in_force("test-failing", [source], broken) == "kept"


def test_both_packs_use_the_one_cache_and_the_one_error_type():
    assert ranking.pack_in_force() is ranking.pack_in_force()
    assert em_pack.default_pack() is em_pack.default_pack()
    assert issubclass(intel_pack.PackError, packs.PackError)
    assert issubclass(em_pack.PackError, packs.PackError)


def test_both_packs_are_checked_whole_and_refused_once_naming_every_problem(tmp_path):
    """One validation path: the EM pack, like the intelligence pack, lists all
    its problems (file, key, problem) instead of stopping at the first."""
    text = em_pack.pack_file().read_text(encoding="utf-8")
    broken = tmp_path / "pack.toml"
    broken.write_text(
        text.replace("ij_release_hours = 72", "ij_release_hours = -1").replace(
            "medium = 40", "medium = 70"
        ),
        encoding="utf-8",
    )
    with pytest.raises(packs.PackError) as caught:
        em_pack.load_pack(broken)
    assert caught.value.source == broken
    assert any(
        p.startswith("pack.toml: deadlines.ij_release_hours: must be positive")
        for p in caught.value.problems
    )
    assert any(
        p.startswith("pack.toml: priority.harm_points: must fall") for p in caught.value.problems
    )
    folder = tmp_path / "intel"
    shutil.copytree(intel_pack.default_folder(), folder)
    (folder / "reasons.toml").write_text("not = [valid", encoding="utf-8")
    (folder / "buckets.toml").unlink()
    with pytest.raises(packs.PackError) as caught:
        intel_pack.load_pack(folder)
    assert [p.split(":")[0] for p in caught.value.problems] == ["buckets.toml", "reasons.toml"]
