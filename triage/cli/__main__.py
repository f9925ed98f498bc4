"""``python -m triage.cli``: the command line."""

from triage.cli.main.main import main

raise SystemExit(main())
