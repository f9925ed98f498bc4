"""A small demo database for the store tests, built once per run and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.demo.generator import create_demo_database


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    create_demo_database(path, intel=3000, em=150)
    return path


@pytest.fixture
def demo(demo_file, tmp_path) -> Path:
    copy = tmp_path / "work.sqlite"
    shutil.copyfile(demo_file, copy)
    return copy
