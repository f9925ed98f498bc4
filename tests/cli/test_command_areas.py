"""A command line loads only the area modules its command needs."""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys

from triage.cli.main import AREAS, COMMAND_AREAS, KIND_AREAS, areas_for, build_parser, main


def registered_commands(area: str) -> set[str]:
    """The top-level commands ``area`` adds (``rank``/``explain`` if it adds a kind)."""
    parser = build_parser((area,))
    (top,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands = set()
    for name, sub in top.choices.items():
        groups = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if name in ("rank", "explain") and not (groups and groups[0].choices):
            continue  # the shared group exists in every parser; this area adds no kind
        commands.add(name)
    return commands


def test_the_command_table_matches_what_each_area_registers():
    by_area = {area: registered_commands(area) for area in AREAS}
    for area, commands in by_area.items():
        for command in commands:
            assert area in COMMAND_AREAS.get(command, ()), (area, command)
    for command, areas in COMMAND_AREAS.items():
        for area in areas:
            assert command in by_area[area], (command, area)


def test_a_command_loads_its_areas_and_help_loads_them_all():
    assert areas_for(["--db", "x.sqlite", "rank", "intel", "--limit", "5"]) == ("ranking",)
    assert areas_for(["explain", "em", "C1"]) == ("em",)
    assert areas_for(["rank", "--help"]) == ("ranking", "em")
    assert areas_for(["--user", "ann", "meeting", "list"]) == ("meetings",)
    assert areas_for(["--version"]) == ()
    assert areas_for(["--help"]) == AREAS
    assert areas_for(["no-such-command"]) == AREAS


def test_version_and_a_ranking_command_do_not_load_pandas_or_the_pdf_writer():
    code = (
        "import sys\n"
        "from triage.cli.main import areas_for, build_parser\n"
        "build_parser(areas_for(['rank', 'intel']))\n"
        "heavy = [m for m in ('pandas', 'fpdf', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_each_kind_of_the_shared_groups_is_registered_by_the_area_named_for_it():
    for kind, areas in KIND_AREAS.items():
        for command in ("rank", "explain"):
            parser = build_parser(areas)
            (top,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            (group,) = [
                a
                for a in top.choices[command]._actions
                if isinstance(a, argparse._SubParsersAction)
            ]
            assert list(group.choices) == [kind], (command, kind)


def test_version_loads_neither_sqlalchemy_nor_alembic():
    code = (
        "import sys\n"
        "from triage.cli.main import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


# What ``rank intel`` must not load: each cost its start-up CPU (issue 17.1:
# the whole process after an import under 2x a plain sqlite3 query's).
NOT_FOR_RANK_INTEL = (
    "xlsxwriter",  # spreadsheets, for CSV/XLSX output only
    "triage.spreadsheet",
    "argon2",  # password hashing, for a user with a password only
    "triage.em.models",  # the EM area
    "triage.em.casework",
    "triage.intel.plain",  # explain intel
    "triage.intel.replay",  # rules diff
    "alembic",  # migrations, for a database that is not at head only
    "numpy",  # the harm model, only when one is active
    "pandas",
    "triage.harm.registry",  # its mapped classes; the queue asks whether a model is active
)


def test_rank_intel_does_not_load_what_it_does_not_use(new_database_file, tmp_path):
    path = new_database_file(tmp_path / "queue.sqlite")
    code = (
        "import sys\n"
        "from triage.cli.main import main\n"
        "assert main(['--db', sys.argv[1], 'rank', 'intel', '--format', 'json']) == 0\n"
        f"loaded = [m for m in {NOT_FOR_RANK_INTEL!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert 'triage.intel.ranking' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_caller_of_main_keeps_its_garbage_collector_and_its_garbage():
    # The CLI pauses the collector while it imports a command's modules, and
    # freezes what it made only when it is the whole process (the ``triage``
    # program): a caller's objects are never set aside from collection.
    frozen = gc.get_freeze_count()
    assert main(["rules", "check", "--format", "json"]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_program_freezes_what_its_imports_made():
    code = (
        "import gc, sys\n"
        "from triage.cli import main as cli\n"
        "sys.argv = ['triage', 'rules', 'check', '--format', 'json']\n"
        "assert cli.main() == 0\n"
        "assert gc.isenabled()\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# What a `rank intel` process never imports: the ORM and the declarative
# models (~0.1 s of CPU a start, half the floor of issue 17's 2x goal), so
# neither are their mappers set up (~12 ms more). Its tables are declared in
# SQLAlchemy Core and it reads them on connections.
ORM_MODULES = ("sqlalchemy.orm", "triage.store.models", "triage.intel.models",
               "triage.users.models")  # fmt: skip


def test_rank_intel_never_imports_the_orm(new_database_file, tmp_path):
    # A full ranking, then new items ranked again, each with its queue read
    # and the user signed in.
    from triage.demo.generator import create_demo_database

    path = new_database_file(tmp_path / "q.sqlite")
    create_demo_database(path, intel=40, em=0)
    code = (
        "import sqlite3, sys\n"
        "from triage.cli.main import main\n"
        "argv = ['--db', sys.argv[1], 'rank', 'intel', '--format', 'json']\n"
        "assert main(argv) == 0\n"
        "new = sqlite3.connect(sys.argv[1])\n"
        "columns = [r[1] for r in new.execute('PRAGMA table_info(intel_item)') if r[1] != 'id']\n"
        "names = ', '.join(columns)\n"
        "copied = names.replace('intel_id', \"intel_id || '-NEW'\")\n"
        "with new:\n"
        "    new.execute(f'INSERT INTO intel_item ({names}) '\n"
        "                f'SELECT {copied} FROM intel_item LIMIT 5')\n"
        "new.close()\n"
        "assert main(argv) == 0\n"
        f"loaded = [m for m in {ORM_MODULES!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert 'triage.intel.ranking' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert '-NEW"' in done.stdout  # the new items ranked and in the queue
