"""CLI: ``rank intel``, ``explain intel``, ``rules check`` and ``rules diff``."""

from __future__ import annotations

import argparse
import sys
import textwrap
from datetime import datetime
from typing import Any

from triage import clock
from triage.cli.common import (
    add_format,
    clock_text,
    database,
    local_times,
    model_weight,
    print_json,
    print_rows,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.progress import terminal_job
from triage.intel import ranking, regions
from triage.rules.pack import Pack, PackError, load_pack

TABLE_COLUMNS = (
    "rank",
    "intel_id",
    "bucket",
    "upstream_bucket",
    "score",
    "region",
    "team",
    "age_days",
    "flags",
    "harm_score",
    "status",
)


def register(top: Subcommands, groups: Groups) -> None:
    rank = groups["rank"].add_parser("intel", help="the ranked intelligence queue")
    rank.add_argument("--region", help="region code or name")
    rank.add_argument("--team")
    rank.add_argument("--limit", type=int, default=50, help="rows to show (default 50; 0 for all)")
    rank.add_argument(
        "--as-of",
        help="rank the items open at this date or datetime, without storing it (default now)",
    )
    add_format(rank, ("table", "csv", "json"))
    rank.set_defaults(handler=rank_intel)

    explain = groups["explain"].add_parser(
        "intel", help="why an intelligence item ranks where it does"
    )
    explain.add_argument("id", metavar="ID", help="intel_id (or the item's database id)")
    explain.add_argument(
        "--as-of", help="explain as at this date or datetime (default: when it was last ranked)"
    )
    add_format(explain)
    explain.set_defaults(handler=explain_intel)

    rules = top.add_parser("rules", help="check or compare rule packs").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    check = rules.add_parser("check", help="validate a rule pack (default: the bundled one)")
    check.add_argument("path", nargs="?", help="pack folder (default rules/intel)")
    add_format(check)
    check.set_defaults(handler=rules_check)
    diff = rules.add_parser("diff", help="replay two packs over the current data")
    diff.add_argument("old", help="folder of the pack in force")
    diff.add_argument("new", help="folder of the proposed pack")
    diff.add_argument("--as-of", help="compare as at this date or datetime (default now)")
    add_format(diff)
    diff.add_argument("--show", type=int, default=10, help="intel_ids listed per crossing")
    diff.set_defaults(handler=rules_diff)


def _as_of(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return clock.parse_datetime(text)
    except ValueError as error:
        raise UsageError(f"--as-of: {error}") from None


def _pack(path: str | None) -> Pack:
    try:
        return load_pack(path) if path else ranking.pack_in_force()
    except PackError as error:
        raise UsageError(str(error)) from None


def _team_of(pack: Pack, region: str | None, name: str) -> tuple[str, str]:
    """The region and the pack's spelling of a team named in any case.

    A team the pack does not know matched no item and printed an empty queue
    as if there were no work; without --region the team's capacity line was
    missing too."""
    wanted = name.strip().casefold()
    found = [
        (entry.code, member.name)
        for entry in pack.regions
        if region in (None, entry.code)
        for member in entry.teams
        if member.name.casefold() == wanted
    ]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"team {name!r} is in more than one region; add --region")
    known = [m.name for e in pack.regions if region in (None, e.code) for m in e.teams]
    where = f" in region {region}" if region else ""
    raise UsageError(f"no team {name!r}{where} (known: {', '.join(known)})")


def rank_intel(args: argparse.Namespace) -> int:
    region = None
    if args.region:
        try:
            region = regions.region_code(args.region)
        except ValueError as error:
            raise UsageError(str(error)) from None
    db = database(args)
    if args.limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    # 0 printed only the header: it is the whole queue, as for an export.
    pack, limit, as_of = _pack(None), args.limit or None, _as_of(args.as_of)
    if args.team is not None:
        region, args.team = _team_of(pack, region, args.team)
    try:  # the weekly capacity line of the team (or region) asked for
        capacity = pack.capacity(region, args.team) if region else None
    except KeyError as error:
        raise UsageError(str(error).strip("'\"")) from None
    if as_of is None:
        # Now: the stored ranking, brought up to date if anything changed, as
        # the app does.
        weight = model_weight()
        with terminal_job(args) as job:
            run = ranking.ensure_current(db, pack=pack, job=job, model_weight=weight)
        with db.engine.connect() as connection:  # SQLAlchemy Core: no ORM to import
            ids = ranking.queue_ids(
                connection, region=region, team=args.team, limit=limit, model_weight=weight
            )
            found = ranking.rows(connection, ids)
        moment = clock.now()
        note = "ranking up to date" if run is None else f"{run.items} items ranked"
    else:
        # A past instant is ranked without storing it: the stored ranking the
        # app shows stays current. Open then = received by then, not yet decided.
        with db.transaction() as session:
            found = ranking.agenda(
                session, region=region, team=args.team, capacity=capacity or 0, as_of=as_of,
                pack=pack, limit=limit, model_weight=model_weight(),
            )  # fmt: skip
        for row in found:  # as it stood then: open, whatever was decided since
            row["status"] = "open"
        moment, note = as_of, "open items ranked"
    columns = list(TABLE_COLUMNS)
    for row in found:
        row.pop("fits", None)
        if capacity is not None:
            row["fits"] = row["rank"] <= capacity
    if capacity is not None:
        columns.insert(1, "fits")
        note += f"; capacity {capacity} a week"
    if args.format != "json":
        print(
            f"# {note} as of {clock_text(moment)}, rules {pack.version[:12]}",
            file=sys.stderr,
        )
    print_rows(found, args.format, None if args.format == "json" else columns, wide=args.wide)
    return 0


def explain_intel(args: argparse.Namespace) -> int:
    db = database(args)
    with db.transaction() as session:
        item_id = ranking.item_id_for(session, args.id)
    if item_id is None:
        raise UsageError(f"no intelligence item {args.id!r}")
    as_of = _as_of(args.as_of)
    from triage.intel import plain  # imported by the command that uses it

    found = plain.explain(db, item_id, find_above=True, as_of=as_of)
    received = found["inputs"]["received_at"]
    if as_of is not None and received is not None and received > as_of:
        raise UsageError(
            f"{found['intel_id']} was received {clock_text(received)}, "
            "after --as-of: there is nothing to explain then"
        )
    if args.format == "json":
        print_json(found)
    else:
        print("\n".join(explain_text(found)))
    return 0


_MARK = {"matched": "MATCHED", "not matched": "no", "not evaluated": "n/e"}


def _read(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={'(missing)' if v is None else v}" for k, v in values.items())


def _why(cond: dict[str, Any]) -> str:
    return "missing" if cond["result"] == "not evaluated" else "read " + _read(cond["read"])


def explain_text(found: dict[str, Any]) -> list[str]:
    """The trace as lines a team leader can read: the plain-English paragraph
    and "why below the item above" first, then the details."""
    lines = [*textwrap.wrap(found["summary"], 100)] if found.get("summary") else []
    if found.get("below"):
        lines += ["", *textwrap.wrap(found["below"]["why"], 100)]
    if lines:
        lines += ["", "Details:"]
    lines += [
        f"{found['intel_id']}: bucket {found['bucket']} ({found['bucket_rule']}: "
        f"{found['bucket_label']}), score {found['score']:.3f}",
        f"as of {clock_text(found['as_of'])}, rules {found['rules_version'][:12]}, "
        f"age {found['age_days']} day(s)"
        + (f", upstream bucket {found['upstream_bucket']}" if found["upstream_bucket"] else ""),
        f"flags: {', '.join(found['flags']) or 'none'}",
        "",
        "Bucket rules (first match wins; n/e = not evaluated, an input is missing):",
    ]
    for rule in found["bucket_rules"]:
        marker = " <- first match" if rule["first_match"] else ""
        lines.append(f"  [{_MARK[rule['result']]:>7}] {rule['id']}: {rule['label']}{marker}")
        for cond in rule["conditions"]:
            mark = _MARK[cond["result"]]
            lines.append(
                f"            {mark:>7}  needs {cond['needs']}; read {_read(cond['read'])}"
            )
    lines += ["", "Priority within the bucket:"]
    for factor in found["priority"]:
        flag = f" [{factor['flag']}]" if factor["flag"] else ""
        detail = f" ({factor['detail']})" if factor["detail"] else ""
        mark = _MARK[factor["result"]]
        lines.append(f"  {factor['points']:7.3f}  {mark:>7}  {factor['label']}{detail}{flag}")
    lines.append(f"  {found['score']:7.3f}  total")
    higher = found["why_not_higher"]
    if higher:
        lines += ["", f"Why not bucket {higher['bucket']}:"]
        for rule in higher["rules"]:
            unmet = "; ".join(f"{c['needs']} ({_why(c)})" for c in rule["unmet"])
            lines.append(f"  {rule['id']} would need: {unmet}")
    stored = found.get("stored")
    if stored and not stored["same_as_trace"]:
        lines += [
            "",
            f"Stored rank (as of {stored['as_of']}, rules {stored['rules_version'][:12]}): "
            f"bucket {stored['bucket']}, score {stored['score']:.3f}",
        ]
    harm = found.get("harm_model")
    if harm:
        lines += [
            "",
            f"Harm model {harm['model_id']} (advice, never the bucket): score "
            f"{harm['harm_score']:.3f}, suggests {harm['suggestion']}; moved most by:",
        ]
        for reason in harm["reasons"]:
            lines.append(
                f"  {reason['contribution']:+.3f} {reason['unit']}  {reason['feature']} = "
                f"{reason['value']}"
            )
    return lines


def rules_check(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.path)
    except PackError as error:
        if args.format == "json":
            print_json({"ok": False, "error": str(error)})
        print(f"triage: {error}", file=sys.stderr)
        return 1
    today = clock.to_local(clock.now()).date()
    active = [c.code for c in pack.campaigns if c.active_on(today)]
    counts = {
        "bucket_rules": len(pack.rules),
        "priority_factors": len(pack.factors),
        "campaigns": len(pack.campaigns),
        "campaigns_active_today": len(active),
        "countries": len(pack.countries),
        "reason_codes": len(pack.reasons),
        "regions": len(pack.regions),
    }
    if args.format == "json":
        print_json({"ok": True, "folder": str(pack.folder), "version": pack.version, **counts})
        return 0
    print(f"rule pack OK: {pack.folder}")
    print(f"version {pack.version}")
    print(
        f"{len(pack.rules)} bucket rules, {len(pack.factors)} priority factors, "
        f"{len(pack.campaigns)} campaigns ({len(active)} active today), "
        f"{len(pack.countries)} countries, {len(pack.reasons)} reason codes, "
        f"{len(pack.regions)} regions"
    )
    return 0


def rules_diff(args: argparse.Namespace) -> int:
    old, new = _pack(args.old), _pack(args.new)
    db = database(args)
    from triage.intel import replay  # imported by the command that uses it

    result = replay.diff(db, old, new, as_of=_as_of(args.as_of), model_weight=model_weight())
    if args.format == "json":
        print_json(local_times(result.as_dict()))
        return 0
    print(f"old rules {result.old_version[:12]}  new rules {result.new_version[:12]}")
    print(f"{result.items} items, {result.moved} change bucket")
    print("from \\ to  " + "".join(f"{b:>8}" for b in range(1, 7)))
    for a in range(1, 7):
        print(f"bucket {a}   " + "".join(f"{result.matrix[a][b]:>8}" for b in range(1, 7)))
    print("")
    print("Capacity line (open items):")
    for c in result.crossings:
        print(
            f"  {c.region} / {c.team}: capacity {c.capacity}"
            + (f" (was {c.old_capacity})" if c.old_capacity is not None else "")
            + f", {c.open_items} open, "
            f"{len(c.entered)} move above the line, {len(c.left)} fall below"
        )
        if c.entered:
            print(f"      above: {', '.join(c.entered[: args.show])}")
        if c.left:
            print(f"      below: {', '.join(c.left[: args.show])}")
    return 0
