"""The governance pack: what an Algorithmic Transparency Recording Standard
record and a DPIA annex need, written from the data as Markdown and PDF.

``build_pack`` computes every section from the store and the rule packs in
force (``triage.governance.figures``; nothing here is a figure typed in);
``write_pack`` renders the one ``GovernancePack`` to ``governance-pack.md``
and ``governance-pack.pdf``. Tables leave the app released: counts below the
threshold are suppressed as in the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from triage import clock
from triage.em import pack as em_pack
from triage.governance import figures
from triage.harm import card, registry
from triage.intel import plain, ranking
from triage.pdf import FAMILY, new_pdf
from triage.qa import report as qa_report
from triage.qa.scoring import TARGET_PCT
from triage.stats import tasking
from triage.stats.table import StatTable, cell_text, suppress
from triage.store.db import Database
from triage.users import Action, Actor, require

MARKDOWN_NAME = "governance-pack.md"
PDF_NAME = "governance-pack.pdf"


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)  # Markdown paragraphs and lists
    tables: list[StatTable] = field(default_factory=list)


@dataclass
class GovernancePack:
    start: date
    end: date
    generated_at: datetime
    suppress_below: int
    sections: list[Section]
    figures: dict[str, Any]  # the headline figures, for --format json


def _headline(table: StatTable, key: str, label: str = "All") -> Any:
    for row in table.rows:
        if label in row.values():
            return row.get(key)
    return None


def build_pack(
    db: Database,
    start: date | None = None,
    end: date | None = None,
    *,
    suppress_below: int = 0,
    actor: Actor,
) -> GovernancePack:
    """Every section of the pack for decisions made from ``start`` to ``end``
    (UK dates; default the 12 months to today)."""
    require(db, actor, Action.READ_STATISTICS)
    today = clock.to_local(clock.now()).date()
    end = end or today
    start = start or end - timedelta(days=365)
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    intel = ranking.pack_in_force()
    em = em_pack.default_pack()
    stats = figures.period_stats(db, start, end)
    qa = qa_report.build_report(db, start, end).released(suppress_below)
    with db.sessions() as session:
        concordance = figures.tasking_concordance(session, start, end)
        by_bucket = figures.bucket_concordance(session, start, end)
        em_table = figures.em_concordance(session, start, end)
        protected, missing = figures.protected_tables(session, start, end)
        cadence = figures.cadence(session, today, intel.version, em.version, em.review_months)
        model = registry.active_model(session)
        model_card = card.markdown(model.manifest, model.evaluation) if model else None
        latest = registry.latest(session)
        latest_id = latest.id if latest else None

    def released(table: StatTable) -> StatTable:
        return suppress(table, suppress_below)

    sections = [
        Section(
            "The rule pack in force (intelligence)",
            [
                f"Version `{intel.version}` (SHA-256 of the pack's content).",
                "",
                *plain.describe_pack(intel),
            ],  # fmt: skip
        ),
        Section(
            "The rule pack in force (EM caseload)",
            [f"Version `{em.version}`.", "", *em_pack.describe(em)],
        ),
        Section(
            "The harm model",
            _model_lines(model_card, latest_id),
        ),
        Section(
            "Recommendation and decision: override and concordance",
            [
                "The tool recommends; people decide. These tables set each recorded decision "
                "against what the tool put in front of the decision maker.",
            ],
            [released(concordance), released(by_bucket), released(em_table)],
        ),
        Section(
            "Acceptance",
            [],
            [
                released(figures.acceptance_by_region_bucket(stats)),
                released(tasking.figure9(stats)),
            ],  # fmt: skip
        ),
        Section(
            "Decisions by protected characteristic",
            [
                "Equality Act 2010 characteristics recorded in this store only, counts below "
                f"{max(suppress_below, figures.PROTECTED_SUPPRESS_BELOW)} suppressed. Not "
                "recorded: " + (", ".join(missing) if missing else "none") + ".",
            ],
            [
                suppress(t, max(suppress_below, figures.PROTECTED_SUPPRESS_BELOW))
                for t in protected
            ],  # fmt: skip
        ),
        Section(
            "Quality assurance",
            _qa_lines(qa),
            [qa.table],
        ),
        Section("Review", [], [cadence]),
    ]
    headline = {
        "period": {"from": start, "to": end},
        "intel_rules_version": intel.version,
        "em_rules_version": em.version,
        "active_model": model.id if model else None,
        "tasking_concordance_pct": _headline(concordance, "concordant_pct"),
        "tasking_override_pct": _headline(concordance, "overridden_pct"),
        "bucket_concordance_pct": _headline(by_bucket, "concordant_pct"),
        "em_override_pct": _headline(em_table, "overridden_pct"),
        "qa_scored": qa.scored,
        "qa_satisfactory_pct": qa.overall["satisfactory_pct"],
        "protected_not_recorded": missing,
    }
    return GovernancePack(start, end, clock.now(), suppress_below, sections, headline)


def _model_lines(model_card: str | None, latest_id: str | None) -> list[str]:
    if model_card is None:
        registered = (
            f"The latest registered model, `{latest_id}`, is not active."
            if latest_id
            else "No model has been registered."
        )
        return [
            "No harm model is active: the queue is ordered by the rule pack alone. " + registered
        ]
    # The card's own headings, one level below this section's.
    return [("##" + line) if line.startswith("#") else line for line in model_card.splitlines()]


def _qa_lines(qa: qa_report.QaReport) -> list[str]:
    overall = qa.overall
    pct = overall["satisfactory_pct"]
    if not qa.scored:
        return [
            f"No sampled decision made in the period has been scored yet ({qa.sampled:,} "
            "sampled). Target: at least "
            f"{TARGET_PCT}% satisfactory (QS1 or QS2)."
        ]
    rate = f"{pct}%" if isinstance(pct, int) else "suppressed (small count)"
    return [
        f"{qa.scored:,} of {qa.sampled:,} sampled decisions made in the period were scored by "
        f"a reviewer who did not make them; satisfactory (QS1 or QS2): {rate}, against a "
        f"target of at least {TARGET_PCT}%."
    ]


# -- writing ----------------------------------------------------------------------------


def _markdown_table(table: StatTable) -> list[str]:
    def cell(value: Any, kind: str) -> str:
        return cell_text(value, kind).replace("|", "\\|")

    header = "| " + " | ".join(c.title for c in table.columns) + " |"
    rule = "|" + "|".join("---" if c.kind == "text" else "---:" for c in table.columns) + "|"
    body = [
        "| " + " | ".join(cell(row.get(c.key), c.kind) for c in table.columns) + " |"
        for row in table.rows
    ]
    if not table.rows:
        body = ["| " + " | ".join(["no data"] + [""] * (len(table.columns) - 1)) + " |"]
    return [f"### {table.title}", "", header, rule, *body, "", f"*{table.definition}*", ""]


def markdown(pack: GovernancePack) -> str:
    generated = clock.to_local(pack.generated_at).strftime("%Y-%m-%d %H:%M")
    below = pack.suppress_below
    hidden = f"; counts below {below} shown as <{below}." if below > 1 else "."
    lines = [
        "# Triage governance pack",
        "",
        f"Decisions made {pack.start} to {pack.end} (UK dates); generated {generated} UK time "
        "from the Triage database. For the Algorithmic Transparency Recording Standard "
        f"record and the DPIA annex. Aggregates only{hidden}",
        "",
    ]
    for section in pack.sections:
        lines += [f"## {section.title}", "", *section.lines, ""]
        for table in section.tables:
            lines += _markdown_table(table)
    return "\n".join(lines).rstrip() + "\n"


def _pdf_text(pdf: FPDF, line: str) -> None:
    if line.startswith("#"):
        level = len(line) - len(line.lstrip("#"))
        pdf.set_font(FAMILY, "B", {1: 15, 2: 12.5, 3: 10.5}.get(level, 9.5))
        pdf.multi_cell(0, 6, line.lstrip("#").strip(), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
    elif not line.strip():
        pdf.ln(2)
    else:
        pdf.multi_cell(0, 4.6, line.replace("`", ""), markdown=True, new_x="LMARGIN",
                       new_y="NEXT")  # fmt: skip


def _pdf_table(pdf: FPDF, table: StatTable) -> None:
    pdf.set_font(FAMILY, "B", 10)
    pdf.multi_cell(0, 5.5, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 7)
    header = FontFace(emphasis="BOLD", fill_color=(217, 225, 242))
    with pdf.table(
        text_align=["LEFT"] + ["RIGHT"] * (len(table.columns) - 1),
        headings_style=header, line_height=3.6, width=pdf.epw, first_row_as_headings=True,
    ) as grid:  # fmt: skip
        row = grid.row()
        for column in table.columns:
            row.cell(column.title)
        for values in table.rows or [{}]:
            row = grid.row()
            for column in table.columns:
                row.cell(cell_text(values.get(column.key), column.kind) or "")
    pdf.set_font(FAMILY, "I", 7)
    pdf.multi_cell(0, 3.2, table.definition, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9)
    pdf.ln(3)


def write_pdf(pack: GovernancePack, path: Path) -> Path:
    pdf = new_pdf(orientation="P", unit="mm", format="A4")
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(True, 14)
    pdf.set_title("Triage governance pack")
    pdf.add_page()
    head, *_ = markdown(replace(pack, sections=[])).split("\n## ", 1)
    for line in head.splitlines():
        _pdf_text(pdf, line)
    for section in pack.sections:
        _pdf_text(pdf, f"## {section.title}")
        for line in section.lines:
            if line.startswith("|"):  # a Markdown table inside the model card
                pdf.set_font(FAMILY, "", 7)
                pdf.multi_cell(0, 3.6, line, new_x="LMARGIN", new_y="NEXT")
                pdf.set_font(FAMILY, "", 9)
            else:
                _pdf_text(pdf, line)
        for table in section.tables:
            _pdf_table(pdf, table)
    pdf.output(str(path))
    return path


def write_pack(pack: GovernancePack, folder: Path) -> tuple[Path, Path]:
    """``governance-pack.md`` and ``governance-pack.pdf`` in ``folder`` (made
    if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / MARKDOWN_NAME
    md.write_text(markdown(pack), encoding="utf-8")
    return md, write_pdf(pack, folder / PDF_NAME)
