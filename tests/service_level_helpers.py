"""ICIBI Figure 12's published figures and a process-issue log, as extracts
(the service-level tests of the core and of the Statistics screen)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from triage.stats.period import Period

# ICIBI Figure 12 [004], Home Office cases: target, Oct, Nov, Dec 2021, average.
FIGURE12 = {
    "Equipment re-installation": (95, 81.8, 72.2, 83.3, 79.1),
    "Visit for removal of equipment - non-bail cases": (95, 75.0, 85.7, 100.0, 86.9),
    "Visit for removal of equipment (tamper related)": (85, 60.0, 57.1, 83.3, 66.8),
    "Requesting information": (85, 100.0, 100.0, 100.0, 100.0),
    "Informing authorities of enforcement action": (85, 96.0, 83.3, 82.4, 87.2),
    "Attendance at court": (100, 100.0, 100.0, 100.0, 100.0),
}
# The flags domain.md §2.12 reads off the figure.
BELOW = {
    "Equipment re-installation": "Oct 2021, Nov 2021, Dec 2021",
    "Visit for removal of equipment - non-bail cases": "Oct 2021, Nov 2021",
    "Visit for removal of equipment (tamper related)": "Oct 2021, Nov 2021, Dec 2021",
    "Requesting information": "none",
    "Informing authorities of enforcement action": "Nov 2021, Dec 2021",
    "Attendance at court": "none",
}
MONTHS = ("2021-10", "2021-11", "2021-12")
PERIOD = Period.resolve(date(2021, 10, 1), date(2021, 12, 31), as_of=date(2022, 3, 31))


def figure12_csv(tmp_path: Path) -> Path:
    lines = ["measure,month,target_pct,achieved_pct"]
    for measure, (target, *achieved, _average) in FIGURE12.items():
        for month, value in zip(MONTHS, achieved, strict=True):
            lines.append(f'"{measure}",{month},{target}%,{value}')
    path = tmp_path / "em_service_levels.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def issues_csv(tmp_path: Path) -> Path:
    path = tmp_path / "em_process_issues.csv"
    path.write_text(
        "issue_id,kind,occurred_at,case_id\n"
        "I1,incorrect_referral,2021-10-04T10:00,C1\n"
        "I2,equipment_fault,2021-10-31T23:30,\n"  # GMT: still October
        "I3,equipment_fault,2021-11-02,C2\n"
        "I4,supplier_failed_request,2021-12-01,\n"
        "I5,broken_kit,2021-12-02,\n",
        encoding="utf-8",
    )
    return path
