"""One spelling for JSON output: ``--format json`` on every command, ``--json`` its alias."""

from __future__ import annotations

import argparse
import json

import pytest

from triage.cli.main import build_parser
from triage.cli.main import main as cli

# Starts the desktop app: it prints nothing to format.
NO_OUTPUT = {("gui",)}


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += leaf_commands(child, (*path, name))
    return found or [(path, parser)]


COMMANDS = leaf_commands(build_parser())


def test_the_walk_finds_every_command_area():
    names = {path[0] for path, _ in COMMANDS}
    assert {"db", "import", "quarantine", "rank", "explain", "em", "stats", "model"} <= names
    assert len(COMMANDS) > 30


@pytest.mark.parametrize("path,parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_takes_format_json_the_json_alias_and_wide_tables(path, parser):
    if path in NO_OUTPUT:
        return
    options = {o: a for a in parser._actions for o in a.option_strings}
    assert "--format" in options and "json" in options["--format"].choices, path
    alias = options.get("--json")
    assert alias is not None and alias.dest == "format" and alias.const == "json", path
    if "table" in options["--format"].choices:  # a table fits 100 columns unless --wide
        assert "--wide" in options, path


@pytest.mark.parametrize(
    "command",
    [["db", "info"], ["quarantine", "list"], ["meeting", "list"], ["model", "list"]],
)
def test_json_and_format_json_print_the_same(db, capsys, command):
    outputs = []
    for spelling in (["--json"], ["--format", "json"]):
        assert cli(["--db", db.location, *command, *spelling]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]


def test_an_action_command_reports_in_json(db, capsys):
    assert cli(["--db", db.location, "rules", "check", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["bucket_rules"] > 0
