"""Paired rounds: the whole `rank` process of two code trees on one database.

    .venv/bin/python benchmarks/rank_paired.py DB OLD_TREE [NEW_TREE] [--rounds 10]

Each round measures the floor (``bench_rank``'s plain ``sqlite3`` ``ORDER BY
... LIMIT 100`` in a fresh ``python``), then, for each tree in turn (which
goes first alternates), ``triage rank intel --limit 100 --format json`` after
1,000 new items of its own and once more with the ranking current. A tree is
a checkout (or ``git archive``) of the repository, put first on
``PYTHONPATH``; NEW_TREE defaults to this one. Both run in this venv, with
their bytecode compiled and the database read once before the first round.

On a shared machine the floor moves between runs; a ratio to the same round's
floor, old and new measured within seconds of each other, is steadier than
two separate ``bench_rank.py`` runs. CPU (user + system) of each process. DB
is changed (items added, ranks written): give it a copy. The last lines are
the medians; the very last, the new tree's ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench_rank import AS_OF, FLOOR, NEW_ITEMS, timed

HERE = Path(__file__).resolve().parent.parent


def cpu(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds of one fresh process."""
    return timed("", command=command, env=env)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", help="a copy of a ranked database (it is changed)")
    parser.add_argument("old", help="the tree to compare against")
    parser.add_argument("new", nargs="?", default=str(HERE), help="default: this tree")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ, TRIAGE_NOW=AS_OF)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("TRIAGE_HOME", str(Path(args.db).with_suffix(".home")))
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(args.db).with_suffix(".bytecode")))
    trees = {"old": args.old, "new": args.new}
    python = sys.executable
    rank = [str(Path(python).with_name("triage")), "--db", args.db, "rank", "intel",
            "--limit", "100", "--format", "json"]  # fmt: skip
    for tree in trees.values():  # bytecode compiled, the database in the page cache
        subprocess.run([python, "-m", "compileall", "-q", f"{tree}/triage"], env=env, check=True)
        cpu(rank, dict(env, PYTHONPATH=tree))
    floors: list[float] = []
    after_new: dict[str, list[float]] = {name: [] for name in trees}
    current: dict[str, list[float]] = {name: [] for name in trees}
    ratios: dict[str, list[float]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        floor = cpu([python, "-c", FLOOR, args.db], env)
        floors.append(floor)
        order = ["old", "new"] if round_ % 2 == 0 else ["new", "old"]
        shown = []
        for name in order:
            tree_env = dict(env, PYTHONPATH=trees[name])
            cpu([python, "-c", NEW_ITEMS, args.db, "1000"], env)
            after_new[name].append(cpu(rank, tree_env))
            ratios[name].append(after_new[name][-1] / floor)
            current[name].append(cpu(rank, tree_env))
            shown.append(
                f"{name} after new {after_new[name][-1]:.3f} s ({ratios[name][-1]:.2f}x), "
                f"current {current[name][-1]:.3f} s"
            )
        print(f"round {round_ + 1}: floor {floor:.3f} s; " + "; ".join(shown), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"floor: median {statistics.median(floors):.3f} s, best {min(floors):.3f} s")
    for name in trees:
        print(
            f"{name}: after 1,000 new items median {statistics.median(after_new[name]):.3f} s "
            f"(best {min(after_new[name]):.3f}), ranking current median "
            f"{statistics.median(current[name]):.3f} s (best {min(current[name]):.3f})"
        )
    for name in trees:
        print(
            f"{name}: after 1,000 new items / the same round's floor, median "
            f"{statistics.median(ratios[name]):.2f}x, best {min(ratios[name]):.2f}x (target < 2x)"
        )


if __name__ == "__main__":
    main()
