"""What the HTTP answers are made of: each answer is its `*Out` schema's dump (the schema the
operation's `@api(response=...)` names, and openapi.yaml shows), never a dict built beside it.

The use case dumps inside its transaction: the objects it read are expired and detached once the
unit of work ends, so the entrypoint could not read them any more."""

import functools
from typing import Any, TypeVar

from marshmallow import Schema, fields

from .clock import to_wire

S = TypeVar("S", bound=Schema)


@functools.cache
def out(schema: type[S]) -> S:
    """The one instance of an answer schema, made on first use: `out(ServicePage).dump(page)`. A
    new instance makes its nested schemas again on its first dump, which costs about as much as the
    dump itself (measured once with timeit, not a benchmark). marshmallow 4 keeps no state
    between dumps, so one instance serves every greenthread."""
    return schema()


class Moment(fields.String):
    """A datetime as the wire shows it: RFC 3339 with its offset (UTC when stored naive, as the
    databases do); null stays null. Documented as a `date-time` string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"format": "date-time", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return to_wire(value)


class Items(fields.List[Any]):
    """A list; empty when the value is null (a column added later is null in older rows)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(value or [], attr, obj, **kwargs)


class Records(Items):
    """A list of records (dicts) of a schema of plain fields, each dumped as the schema's keys (a key
    the record lacks: null) without a schema dump per record: a national counter's catalogue holds
    thousands of commitments, and a dump each cost five times the whole catalogue's shaping.
    openapi.yaml shows it as a list of the schema, as `List(Nested(schema))`."""

    PLAIN = (fields.String, fields.Integer, fields.Boolean)

    def __init__(self, schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(fields.Nested(schema), **kwargs)
        declared = schema._declared_fields
        if any(not isinstance(f, self.PLAIN) or f.attribute or f.data_key for f in declared.values()):
            raise TypeError(f"{schema.__name__}: Records dumps plain fields only, under their own names")
        self.keys = tuple(declared)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return [{key: record.get(key) for key in self.keys} for record in value or []]


class Answer:
    """`obj` as its schema dumps it, with what the answer adds to it (a history, a sum): an
    attribute given here wins, any other is `obj`'s. An attribute neither has is left out of the
    dump (a list's items carry no history)."""

    def __init__(self, obj: Any, **extra: Any) -> None:
        self.__dict__.update(extra, _obj=obj)

    def __getattr__(self, name: str) -> Any:  # only for what `extra` does not hold
        return getattr(self.__dict__["_obj"], name)
