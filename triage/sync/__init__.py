"""Laptops offline: pull a team's work from a server, push what was done offline.

``pull.pull`` and ``push.push`` are the two operations the CLI (``triage
sync``) and the app (File > Sync) call; ``push.pending`` says what a push
would send. See docs/sync.md.
"""
