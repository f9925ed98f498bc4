"""Every table of the database, gathered for Alembic and for ``create_all``.

Each area keeps its tables in its own module; importing this module
registers them all on the one ``MetaData`` (``triage.store.tables.metadata``,
which is ``Base.metadata``). The store's, the ranking's and the users' tables
are declared in SQLAlchemy Core (their ``tables`` modules), with the ORM
models mapped onto them; the other areas declare theirs as models.
"""

from __future__ import annotations

# Imported for their side effect: each registers its tables (or indexes).
from triage.em import models as _em_models  # noqa: F401  (EM reviews, escalations, ...)
from triage.harm import registry as _harm_registry  # noqa: F401  (harm_model)
from triage.intel import models as ranking_models  # noqa: F401  (intel_rank)
from triage.intel import notes as _notes  # noqa: F401  (item_note)
from triage.meetings import models as meeting_models  # noqa: F401  (meeting agenda + steps)
from triage.qa import models as _qa_models  # noqa: F401  (QA samples and scores)
from triage.stats import indexes as _stats_indexes  # noqa: F401  (statistics indexes)
from triage.store.models import Base
from triage.sync import models as _sync_models  # noqa: F401  (laptop copies)
from triage.users import models as _users_models  # noqa: F401  (app_user)

__all__ = ["Base", "metadata"]

metadata = Base.metadata
