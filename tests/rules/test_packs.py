"""One cache rule for both rule packs (triage.packs)."""

from __future__ import annotations

import os

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
        raise packs.PackError("pack.toml: bad")

    with pytest.raises(packs.PackError):
        packs.in_force("test-failing", [source], broken)
    packs.put_in_force("test-failing", [source], "kept")
    assert packs.in_force("test-failing", [source], broken) == "kept"


def test_both_packs_use_the_one_cache_and_the_one_error_type():
    assert ranking.pack_in_force() is ranking.pack_in_force()
    assert em_pack.default_pack() is em_pack.default_pack()
    assert issubclass(intel_pack.PackError, packs.PackError)
    assert issubclass(em_pack.PackError, packs.PackError)
