"""The Rules screen: the rule pack in force, readable by a policy owner, with
its version and validation status, and the replay preview of a changed pack
(``triage.intel.replay``) before anyone adopts it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from triage.intel import plain, ranking
from triage.rules import PackError, load_pack
from triage.rules.pack import default_folder
from triage.store.db import Database
from ui import identity, labels
from ui.labels import esc
from ui.tasks import Tasks


def _table_rows(rows) -> str:
    """HTML table rows, one cell per value (each value HTML already)."""
    return "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)


def render_pack(pack) -> str:
    buckets = _table_rows(
        (
            esc(rule.id),
            esc(labels.bucket_text(rule.bucket)),
            esc(rule.label),
            "<br>".join(esc(plain.condition_text(c)) for c in rule.when) or "always",
        )
        for rule in pack.rules
    )
    campaigns = _table_rows(
        (
            esc(c.code),
            esc(c.kind),
            esc(c.name),
            esc(", ".join(c.sectors)),
            esc(", ".join(c.regions) or "all"),
            f"{c.starts} – {c.ends}",
        )
        for c in pack.campaigns
    )
    factors = _table_rows(
        (
            esc(f.id),
            esc(f.label),
            esc(f.type),
            esc(f.input or f.by or ""),
            esc(plain.factor_points(f)),
        )
        for f in pack.factors
    )
    reasons = _table_rows((r.key, esc(r.code), esc(r.label)) for r in pack.reasons)
    table = "<table cellpadding=5 border=1 style='border-collapse:collapse' width='100%'>"
    return (
        "<h2>Bucket rules</h2><p>Each item goes to the bucket of the <b>first</b> rule that "
        "matches. A rule whose input is missing is <i>not evaluated</i> and does not match.</p>"
        f"{table}<tr><th>Rule</th><th>Bucket</th><th>Meaning</th>"
        "<th>Conditions (all must hold)</th>"
        f"</tr>{buckets}</table>"
        f"<h2>Campaigns</h2>{table}<tr><th>Code</th><th>Kind</th><th>Name</th><th>Sectors</th>"
        f"<th>Regions</th><th>Active</th></tr>{campaigns}</table>"
        f"<p>National priorities (bucket 5): {esc(', '.join(pack.national_priorities))}</p>"
        f"<h2>Priority within a bucket</h2>{table}<tr><th>Factor</th><th>Meaning</th><th>Type</th>"
        f"<th>Reads</th><th>Points</th></tr>{factors}</table>"
        f"<h2>Reject reasons (meeting keys)</h2>{table}<tr><th>Key</th><th>Code</th><th>Label</th>"
        f"</tr>{reasons}</table>"
    )


def render_replay(diff) -> str:
    """A replay ``Diff`` as HTML: the headline, the from-to bucket matrix and
    which items would cross each team's capacity line."""
    head = (
        f"<h2>Replay preview</h2><p>Over <b>{diff.items:,}</b> items as of "
        f"{diff.as_of:%Y-%m-%d %H:%M}: <b>{diff.moved:,}</b> would move bucket. "
        f"Pack {esc(diff.old_version[:12])} → {esc(diff.new_version[:12])}.</p>"
    )
    cells = "".join(
        "<tr><th>from "
        + str(a)
        + "</th>"
        + "".join(
            f"<td align=right style='{'font-weight:bold' if a != b and n else 'color:#6b7480'}'>"
            f"{n:,}</td>"
            for b, n in sorted(row.items())
        )
        + "</tr>"
        for a, row in sorted(diff.matrix.items())
    )
    matrix = (
        f"<h3>Bucket moves (rows: now; columns: with the changed pack)</h3>{TABLE}<tr><th></th>"
        + "".join(f"<th>to {b}</th>" for b in range(1, 7))
        + f"</tr>{cells}</table>"
    )
    rows = "".join(
        f"<tr><td>{esc(c.region)}</td><td>{esc(c.team)}</td><td align=right>{c.capacity}"
        f"{'' if c.old_capacity is None else f' (was {c.old_capacity})'}</td>"
        f"<td align=right>{c.open_items:,}</td><td align=right><b>{len(c.entered)}</b></td>"
        f"<td align=right><b>{len(c.left)}</b></td>"
        f"<td>{esc(', '.join(c.entered[:8]))}{' …' if len(c.entered) > 8 else ''}</td></tr>"
        for c in diff.crossings
    )
    crossings = (
        f"<h3>Capacity line, per team</h3>{TABLE}<tr><th>Region</th><th>Team</th>"
        "<th>Capacity</th><th>Open items</th><th>Would rise above the line</th>"
        f"<th>Would fall below</th><th>Rising items</th></tr>{rows}</table>"
    )
    return head + matrix + crossings


TABLE = "<table cellpadding=5 border=1 style='border-collapse:collapse'>"


class RulesView(QWidget):
    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.title = QLabel("Rules in force", objectName="title")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("card")
        preview = QPushButton("Replay preview of a changed pack…")
        preview.setObjectName("primary")
        preview.clicked.connect(self.choose_pack)
        self.pack_view = QTextBrowser()
        self.files_view = QTextBrowser()
        self.replay_view = QTextBrowser()
        self.replay_view.setHtml(
            "<p>Choose a folder holding a changed copy of the rule pack to see, before it is "
            "adopted, how many items would move bucket and how many would cross a team's "
            "capacity line.</p>"
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.pack_view, "Readable rules")
        self.tabs.addTab(self.files_view, "Pack files")
        self.tabs.addTab(self.replay_view, "Replay preview")
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(preview)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

    def refresh(self) -> None:
        folder = default_folder()
        try:
            pack = ranking.pack_in_force()
            folder = pack.folder
        except PackError as error:
            self.status.setText(
                f"<b>⚠ The pack in {esc(folder)} is refused</b>:<br>"
                + "<br>".join(esc(p) for p in error.problems)
            )
            self.pack_view.setHtml("")
        else:
            self.status.setText(
                f"<b>✔ Valid</b> · version <code>{pack.version[:16]}</code> · "
                f"{len(pack.rules)} bucket "
                f"rules · {len(pack.factors)} priority factors · {len(pack.campaigns)} campaigns · "
                f"folder {esc(folder)}"
            )
            self.pack_view.setHtml(render_pack(pack))
        files = "".join(
            f"<h3>{esc(path.name)}</h3><pre>{esc(path.read_text(encoding='utf-8'))}</pre>"
            for path in sorted(Path(folder).glob("*.toml"))
        )
        self.files_view.setHtml(files)

    def choose_pack(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of the changed rule pack")
        if folder:
            self.preview(folder)

    def preview(self, folder: str) -> None:
        """Replay the current data under a changed pack, off the UI thread."""
        from triage.intel import replay

        self.tabs.setCurrentWidget(self.replay_view)
        self.replay_view.setHtml("<p>Replaying the current data under the changed pack…</p>")
        weight = identity.model_weight()
        self.tasks.read(
            lambda job: replay.diff(
                self.db,
                ranking.pack_in_force(),
                load_pack(Path(folder)),
                model_weight=weight,
            ),
            on_done=lambda report: self.replay_view.setHtml(render_replay(report)),
            on_fail=lambda m: self.replay_view.setHtml(
                f"<p><b>⚠ Replay refused:</b></p><pre>{esc(m)}</pre>"
            ),
        )
