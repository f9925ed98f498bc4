"""Every table of the database, gathered for Alembic and for ``create_all``.

Each area keeps its models in its own module; importing this module
registers them all on ``Base.metadata``.
"""

from __future__ import annotations

from triage.models import Base
from triage import ranking_models  # noqa: F401  (intel_rank)

__all__ = ["Base", "metadata"]

metadata = Base.metadata
