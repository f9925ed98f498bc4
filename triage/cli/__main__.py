"""``python -m triage.cli``: the command line."""

from triage.cli.main import main

raise SystemExit(main())
