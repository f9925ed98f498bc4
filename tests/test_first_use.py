"""Problems a team leader met on a first use of the command line and the app."""

from __future__ import annotations

import os
import subprocess
import sys


def test_output_piped_into_a_reader_that_stops_early_is_no_traceback(db):
    # As `triage db info | head -0`: the reader has gone before the first line.
    child = subprocess.Popen(
        [sys.executable, "-m", "triage.cli", "--db", str(db.path), "db", "info"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    child.stdout.close()
    stderr = child.stderr.read().decode()
    child.wait()
    child.stderr.close()
    assert stderr == ""
    assert child.returncode == 141
