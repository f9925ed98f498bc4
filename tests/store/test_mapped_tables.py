"""The ORM classes mapped onto the Core tables (``__table__``) name each
column twice: once in the table, once as a typed ``Mapped[...]`` attribute.
SQLAlchemy accepts an annotation that names no column (it maps the table's
columns whatever the class says), so nothing else would notice the two
drifting apart: a renamed column whose old annotation stays, or a new column
mypy never hears of."""

from __future__ import annotations

from triage.store import schema
from triage.store.models import Base


def _mapped_annotations(cls: type) -> set[str]:
    # The modules use ``from __future__ import annotations``: annotations are text.
    return {
        name
        for name, annotation in vars(cls).get("__annotations__", {}).items()
        if str(annotation).startswith("Mapped[")
    }


def test_every_mapped_annotation_names_a_mapped_attribute_and_every_column_has_one() -> None:
    assert schema.Base is Base  # every area's models are loaded
    mappers = list(Base.registry.mappers)
    assert len(mappers) >= 25
    drift = {}
    for mapper in mappers:
        annotated = _mapped_annotations(mapper.class_)
        columns = {column.key for column in mapper.columns}
        unknown = annotated - set(mapper.attrs.keys())
        untyped = columns - annotated
        if unknown or untyped:
            drift[mapper.class_.__name__] = (sorted(unknown), sorted(untyped))
    assert drift == {}
