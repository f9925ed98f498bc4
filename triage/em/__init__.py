"""The EM caseload: deadlines, breach consolidation, escalation, the device
recommendation, claims, the bridge to ICE tasking, the trail-data register
and the ranked queue across the Hub's workstreams.

Everything here is plain core code (no Qt); the CLI (``triage.cli.em``)
and the app (``ui.em_view``) call the same functions.
"""
