"""Entry point of the frozen app, ``triage-desk``; see triage-desk.spec.

``triage-desk cli ARGS`` runs the ``triage`` command line (``triage-desk cli
db backup``): laptops with the packaged app have no Python, and a second
executable would carry a second 24 MB copy of every Python module. A separate
script rather than ``ui/app.py`` itself, so the app module is imported as
``ui.app`` exactly as in the source tree.
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # joblib/scikit-learn may start worker processes: in a frozen app each
    # worker re-runs this executable and must be caught here.
    multiprocessing.freeze_support()
    if sys.argv[1:2] == ["cli"]:
        from triage.cli.main import main as cli_main

        sys.exit(cli_main(sys.argv[2:]))
    from ui.app import main

    sys.exit(main())
