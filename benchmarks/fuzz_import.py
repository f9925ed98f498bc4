"""Fuzzing the importer: mutated CSV and XLSX extracts of every import kind.

    .venv/bin/python benchmarks/fuzz_import.py [--inputs 10000] [--seed 1]

Starts from small valid extracts of each kind (CSV and XLSX), makes
``--inputs`` mutated copies (flipped, inserted and deleted bytes, stray
quotes, NULs and line breaks, repeated and cut lines, other encodings; for
XLSX also damage to the zip and to the sheet's XML: cells moved far away,
formulas without values, a stale dimension) and imports each through the
real importer into one database. Then a corpus of large hostile files
(3 million tiny rows, a 100 MB field, a 100,000-column header, an XLSX
whitespace bomb and a cell at XFD1048576), each in a fresh process for its
own time and memory, against the limit of 60 s per 100 MB and 1 GB.

Counted: inputs tried; tracebacks (any exception other than the importer's
one-message refusal); hangs (an input not done in 20 s); peak memory; good
rows lost: a row whose text is unchanged in the mutated file, in a file the
importer did not refuse, that was neither imported, nor quarantined under
its own line, nor reported as part of a multi-line row. The last lines are
the figures; all but the first must be 0 (memory: under 1024 MB).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from triage.users import ALL_ROLES, Actor

EVERYONE = Actor("benchmark", ALL_ROLES)

HANG_SECONDS = 20
ROWS = 12

# Small valid extracts: header and rows (keys unique per kind; events and
# outcomes refer to the cases and items loaded first).
BASE: dict[str, tuple[list[str], list[list[str]]]] = {
    "intel": (
        ["intel_id", "received_at", "region", "team", "grading", "postcode", "summary"],
        [
            [
                f"FZ-{n:03d}",
                f"2026-0{1 + n % 9}-1{n % 10}T10:{n:02d}",
                ["LSE", "SNI"][n % 2],
                "Team A",
                "2B P",
                "SW1A 1AA",
                f'summary, with "quotes" {n}',
            ]
            for n in range(ROWS)
        ],
    ),
    "em-cases": (
        ["case_id", "region", "harm_level", "fitted_at", "last_review_at"],
        [[f"FC-{n:03d}", "LSE", "high", "2026-05-01T09:00", "14/06/2026"] for n in range(ROWS)],
    ),
    "em-events": (
        ["event_id", "case_id", "event_type", "started_at", "ended_at", "notes"],
        [
            [f"FE-{n:03d}", "BASE-1", "battery", "2026-06-01T10:00", "2026-06-01T11:00", "n"]
            for n in range(ROWS)
        ],
    ),
    "outcomes": (
        ["intel_id", "meeting_date", "decision", "reason"],
        [["BASE-ITEM", f"2026-08-{n + 1:02d}", "rejected", "R1"] for n in range(ROWS)],
    ),
}
TABLES = {"intel": "intel_item", "em-cases": "em_case", "em-events": "em_event",
          "outcomes": "tasking_outcome"}  # fmt: skip
KEY_AT = {"intel": 0, "em-cases": 0, "em-events": 0, "outcomes": 1}
KEY_SQL = {
    "intel": "SELECT intel_id FROM intel_item WHERE batch_id = ?",
    "em-cases": "SELECT case_id FROM em_case WHERE batch_id = ?",
    "em-events": "SELECT event_id FROM em_event WHERE batch_id = ?",
    "outcomes": "SELECT meeting_date FROM tasking_outcome WHERE batch_id = ?",
}


class Hang(Exception):
    pass


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def xlsx_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(buffer)
    return zipped(
        (info.filename, SAVED_AT.sub(b"2026-01-01T00:00:00Z", source.read(info)))
        for info in source.infolist()
    )


# openpyxl stamps a workbook's properties and zip entries with the time it is
# saved: fixed here, so that one --seed makes the same inputs in every run
# (the mutations would otherwise land on other bytes from second to second).
SAVED_AT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def zipped(parts: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, body in parts:
            target.writestr(zipfile.ZipInfo(name, ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


NASTY = [b'"', b"\x00", b"\n", b"\r", b",", b'""', b"\xff", b"\xe9", b"\x1b", b"=1+2", b"\t"]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[at:at] = rng.choice(NASTY)
        elif op == 2 and out:
            del out[at : at + rng.randint(1, 8)]
        elif op == 3:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        elif op == 4:  # repeat a line
            lines = bytes(out).split(b"\n")
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            out = bytearray(b"\n".join(lines))
        elif op == 5:  # cut the file short
            del out[at:]
        elif op == 6:  # a long field
            out[at:at] = b"x" * rng.choice([100, 40_000])
        elif op == 7:  # blank lines
            out[at:at] = b"\n" * rng.randint(1, 3)
        elif op == 8:
            out[at:at] = b'"' + b"a\nb" * rng.randint(1, 3)
    return bytes(out)


def mutate_text_encoding(rng: random.Random, text: str) -> bytes:
    text = text.replace("summary", "Café – £5")
    return text.encode(rng.choice(["utf-8-sig", "utf-16", "cp1252"]))


def mutate_sheet_xml(rng: random.Random, xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0:
            text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:B2"/>', text)
        elif op == 1:  # a far cell
            far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
            text = text.replace("</sheetData>", far + "</sheetData>")
        elif op == 2:  # a formula without a value in a random cell
            cells = list(re.finditer(r"<c r=\"([A-Z]+[0-9]+)\"[^>]*>.*?</c>", text))
            if cells:
                cell = rng.choice(cells)
                text = (text[: cell.start()] + f'<c r="{cell.group(1)}"><f>1+1</f></c>'
                        + text[cell.end() :])  # fmt: skip
        elif op == 3 and text:  # byte damage inside the XML
            at = rng.randrange(len(text))
            text = (
                text[:at] + rng.choice(["<", "&", '"', "\x00", "]]>", "<!DOCTYPE x>"]) + text[at:]
            )
        elif op == 4:  # an error value
            text = re.sub(r"<c r=\"(B\d+)\"[^>]*>.*?</c>",
                          r'<c r="\1" t="e"><v>#N/A</v></c>', text, count=1)  # fmt: skip
        elif op == 5:  # a row out of order
            text = text.replace('<row r="3"', '<row r="40"', 1)
        elif op == 6:  # whitespace between rows
            text = text.replace("</row>", "</row>" + " " * rng.randint(1, 5000), 3)
    return text.encode("utf-8")


def rezip(data: bytes, sheet: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    return zipped(
        (info.filename,
         sheet if info.filename == "xl/worksheets/sheet1.xml" else source.read(info))
        for info in source.infolist()
    )  # fmt: skip


def sheet_of(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def good_csv_lines(original: str, mutated: bytes) -> list[tuple[int, str]]:
    """(line number, key) of base rows whose line is unchanged in the mutated file."""
    base = {line.encode(): line for line in original.split("\n")[1:] if line}
    found = []
    for number, line in enumerate(mutated.split(b"\n")[1:], start=2):
        if line in base:
            found.append((number, base[line]))
    return found


def good_xlsx_rows(original: bytes, mutated: bytes) -> list[tuple[int, str]]:
    """(row number, "") of base rows whose XML is unchanged in the mutated sheet."""
    present = set(re.findall(rb'<row r="\d+"[^>]*>.*?</row>', mutated))
    return [
        (int(element.group(1)), "")
        for element in re.finditer(rb'<row r="(\d+)"[^>]*>.*?</row>', original)
        if element.group(0) in present and int(element.group(1)) > 1
    ]


def run_fuzz(inputs: int, seed: int, folder: Path) -> dict[str, Any]:
    from triage.imports.extracts import UnreadableFile
    from triage.imports.importer import import_file
    from triage.store.db import open_database

    db = open_database(folder / "fuzz.sqlite")
    # What events and outcomes refer to.
    (folder / "cases.csv").write_text("case_id,region\nBASE-1,LSE\n")
    (folder / "items.csv").write_text("intel_id,received_at,region\nBASE-ITEM,2026-01-01,LSE\n")
    import_file(db, "em-cases", folder / "cases.csv", actor=EVERYONE)
    import_file(db, "intel", folder / "items.csv", actor=EVERYONE)
    raw = db.engine.raw_connection()

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise Hang()

    signal.signal(signal.SIGALRM, on_alarm)
    rng = random.Random(seed)
    originals = {kind: csv_text(*BASE[kind]) for kind in BASE}
    workbooks = {kind: xlsx_bytes(*BASE[kind]) for kind in BASE}
    counts: Counter[str] = Counter()
    lost_examples: list[str] = []
    crash_examples: list[str] = []
    kinds = list(BASE)
    for n in range(inputs):
        kind = kinds[n % len(kinds)]
        style = (n // len(kinds)) % 4
        if style == 0:
            data, suffix = mutate_bytes(rng, originals[kind].encode()), "csv"
        elif style == 1:
            data = mutate_bytes(rng, mutate_text_encoding(rng, originals[kind]))
            suffix = "csv"
        elif style == 2:
            data, suffix = mutate_bytes(rng, workbooks[kind]), "xlsx"
        else:
            book = workbooks[kind]
            data, suffix = rezip(book, mutate_sheet_xml(rng, sheet_of(book))), "xlsx"
        path = folder / f"input.{suffix}"
        path.write_bytes(data)
        counts["inputs"] += 1
        signal.alarm(HANG_SECONDS)
        try:
            result = import_file(db, kind, path, actor=EVERYONE)
        except UnreadableFile:
            counts["refused"] += 1
            continue
        except Hang:
            counts["hangs"] += 1
            continue
        except Exception:
            counts["tracebacks"] += 1
            if len(crash_examples) < 5:
                crash_examples.append(f"{kind} {suffix} #{n}: {traceback.format_exc(limit=3)}")
            continue
        finally:
            signal.alarm(0)
        counts["imported"] += 1
        counts["quarantined rows"] += result.quarantined
        # Which good rows came through: stored by this batch, quarantined
        # under their own line, or inside a reported multi-line row.
        stored = {str(k) for (k,) in raw.execute(KEY_SQL[kind], (result.batch_id,))}
        quarantined = {
            line for (line,) in raw.execute(
                "SELECT line_no FROM quarantined_row WHERE batch_id = ?", (result.batch_id,)
            )
        }  # fmt: skip
        spans = result.multi_line
        if suffix == "csv" and style == 0:
            good = good_csv_lines(originals[kind], data)
        elif style == 3:
            good = good_xlsx_rows(sheet_of(workbooks[kind]), sheet_of(data))
        else:
            good = []
        counts["good rows checked"] += len(good)
        for line, text in good:
            row = next(csv.reader([text])) if text else BASE[kind][1][line - 2]
            if row[KEY_AT[kind]] in stored or line in quarantined:
                continue
            if any(first <= line <= last for first, last in spans):
                continue  # part of a row reported as running over several lines
            counts["good rows lost"] += 1
            if len(lost_examples) < 5:
                lost_examples.append(f"{kind} {suffix} #{n} line {line}")
        # Start the next input from the same state: this batch's rows go.
        table = TABLES[kind]
        raw.execute(f"DELETE FROM {table} WHERE batch_id = ?", (result.batch_id,))
        raw.execute("DELETE FROM quarantined_row WHERE batch_id = ?", (result.batch_id,))
        raw.commit()
    raw.close()
    db.close()
    return {"counts": counts, "lost": lost_examples, "crashes": crash_examples}


# -- large hostile files, each in its own process ---------------------------------------


def make_large(kind: str, path: Path) -> None:
    if kind == "tiny-rows":
        path.write_bytes(b"intel_id,received_at,region\n" + b"a\n" * 3_000_000)
    elif kind == "huge-field":
        with open(path, "wb") as handle:
            handle.write(b"intel_id,received_at,region,summary\nI-1,2026-01-01,LSE,")
            for _ in range(100):
                handle.write(b"x" * (1 << 20))
            handle.write(b"\nI-2,2026-01-01,LSE,ok\n")
    elif kind == "wide-header":
        path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n1\n")
    elif kind == "xlsx-whitespace-bomb":
        book = xlsx_bytes(["intel_id", "received_at", "region"], [["W-1", "2026-07-01", "LSE"]])
        xml = sheet_of(book).replace(b"</row>", b"</row>" + b" " * (250 << 20), 1)
        path.write_bytes(rezip(book, xml))
    elif kind == "xlsx-far-cell":
        book = xlsx_bytes(*BASE["intel"])
        xml = sheet_of(book).replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData>",
        )
        path.write_bytes(rezip(book, xml))


def large_child(path: str, db_path: str) -> None:
    from triage.imports.extracts import UnreadableFile
    from triage.imports.importer import import_file
    from triage.store.db import open_database

    db = open_database(db_path)
    started = time.perf_counter()
    try:
        result = import_file(db, "intel", path, actor=EVERYONE)
        outcome = f"imported {result.rows_read} rows, {result.quarantined} quarantined"
    except UnreadableFile as error:
        outcome = "refused: " + str(error)[:110]
    elapsed = time.perf_counter() - started
    # A large file is read in a forked process (triage.imports.reading): its
    # peak counts too (fork without exec: getrusage gives its own).
    reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    own = own_peak_mb()
    print(f"{elapsed:.2f}\t{max(own, reader)}\t{outcome} (importer {own} MB, reader {reader} MB)")


def own_peak_mb() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss, which a
    child started by fork and exec inherits from its parent on Linux."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run_large(folder: Path) -> list[tuple[str, float, float, int, str]]:
    results = []
    for kind in ("tiny-rows", "huge-field", "wide-header", "xlsx-whitespace-bomb", "xlsx-far-cell"):
        path = folder / f"{kind}.{'xlsx' if kind.startswith('xlsx') else 'csv'}"
        make_large(kind, path)
        size_mb = path.stat().st_size / 2**20
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(path), str(folder / f"{kind}.sqlite")],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if child.returncode != 0:
            results.append((kind, size_mb, -1.0, -1, "TRACEBACK " + child.stderr[-300:]))
        else:
            seconds, peak, outcome = child.stdout.strip().split("\t", 2)
            results.append((kind, size_mb, float(seconds), int(peak), outcome))
        path.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-large", action="store_true", help="skip the large files")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        large_child(*args.child)
        return
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {handle.read().split()[0]}")
    with tempfile.TemporaryDirectory(prefix="triage-fuzz-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        fuzz = run_fuzz(args.inputs, args.seed, folder)
        fuzz_seconds = time.perf_counter() - started
        fuzz_peak = own_peak_mb()  # before the large files are made in this process
        large = [] if args.no_large else run_large(folder)
    counts = fuzz["counts"]
    for example in fuzz["crashes"]:
        print("traceback:", example)
    for example in fuzz["lost"]:
        print("good row lost:", example)
    print(f"mutated inputs: {counts['inputs']:,} in {fuzz_seconds:.0f} s "
          f"({counts['refused']:,} refused with a message, {counts['imported']:,} imported, "
          f"{counts['quarantined rows']:,} rows quarantined; "
          f"{counts['good rows checked']:,} unchanged good rows followed)")  # fmt: skip
    over_budget = 0
    for kind, size_mb, seconds, peak, outcome in large:
        # 60 s per 100 MB, and at least 10 s for any file (start-up, the
        # workbook libraries' first import).
        budget = max(10.0, 60 * size_mb / 100)
        flag = "" if 0 <= seconds <= budget and 0 <= peak < 1024 else "  OVER LIMIT"
        over_budget += bool(flag)
        print(f"large {kind}: {size_mb:,.1f} MB, {seconds:.2f} s (limit {budget:.1f} s), "
              f"peak {peak} MB: {outcome}{flag}")  # fmt: skip
    peak = max([fuzz_peak] + [p for *_, p, _ in large])
    tracebacks = counts["tracebacks"] + sum(1 for *_, o in large if o.startswith("TRACEBACK"))
    print(f"inputs tried: {counts['inputs'] + len(large)}")
    print(f"tracebacks: {tracebacks}")
    print(f"hangs: {counts['hangs'] + over_budget}")
    print(f"peak memory: {peak} MB (limit 1024 MB)")
    print(f"good rows lost: {counts['good rows lost']}")


if __name__ == "__main__":
    main()
