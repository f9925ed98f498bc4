"""PDF exports print curly quotes, dashes and accented names (issue 15,
item 14): a Unicode font shipped in the package is embedded."""

from __future__ import annotations

from datetime import date

from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, add_items, ranked
from pypdf import PdfReader

from triage.meetings import minutes
from triage.meetings import operations as meetings
from triage.pdf import FONT_FILES, font_folder
from triage.stats import tasking
from triage.stats.period import Period
from triage.stats.summary_pdf import write_summary_pdf

UNICODE = "“Zoë Ó Briain’s” café — Łódź · naïve"


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def embedded_fonts(path) -> set[str]:
    names = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get(
                "/FontDescriptor"
            )
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                names.add(str(font["/BaseFont"]))
    return names


def test_the_font_files_and_their_licence_are_in_the_package():
    for name in FONT_FILES.values():
        assert (font_folder() / name).stat().st_size > 100_000
    assert "Bitstream" in (font_folder() / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")


def test_agenda_and_minutes_pdf_print_unicode_text(db, tmp_path):
    add_items(db, [{"intel_id": "INT-U1", "summary": UNICODE, "business_name": UNICODE}])
    ranked(db)
    meeting_id = meetings.start_meeting(
        db, actor=EVERYONE, region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=2,
        attendees=["Zoë Ó Briain"],
    )  # fmt: skip
    for kind in ("agenda", "minutes"):
        target = minutes.export(db, meeting_id=meeting_id, path=tmp_path / f"{kind}.pdf", kind=kind)
        text = pdf_text(target)
        assert "?" not in text.replace("\n", " ")
        assert "Zoë Ó Briain" in text
        assert all(
            font.endswith("DejaVuSans") or "DejaVu" in font for font in embedded_fonts(target)
        )
        assert embedded_fonts(target)
    assert "“Zoë" in pdf_text(tmp_path / "agenda.pdf")  # the summary, curly quotes and all


def test_statistics_pdf_prints_unicode_text(db, tmp_path):
    period = Period.resolve()
    stats = tasking.compute(db, period)
    lead = tasking.figure9(stats)
    target = write_summary_pdf(
        tmp_path / "summary.pdf",
        title="Outcomes — “Łódź” team",
        period=period,
        lead=lead,
        tables=[],
    )
    assert "Outcomes — “Łódź” team" in pdf_text(target)
    assert embedded_fonts(target)
