"""One shape for every list an admin or public endpoint answers (contract §4, extended in 1.3;
issue 26): `{"items": [...], "total", "limit", "offset"}`. A paged list (`?limit=&offset=`) says
its page; a whole list (a service's findings, a counter's catalogue) has `limit: null`, `offset: 0`
and `total` = its length. `/standings` pages by cursor instead: `items` and `next`. The keys such
a list had before 1.3 (`findings`, `listings`, `services`) are kept beside `items`, as aliases,
until 2.0."""

from typing import Any, Sequence

from marshmallow import Schema, fields


def whole(items: Sequence[Any], **rest: Any) -> dict[str, Any]:
    """A whole list in the common shape, with the answer's other fields (`rest`)."""
    return {**rest, "items": items, "total": len(items), "limit": None, "offset": 0}


class ListShape(Schema):
    """The common fields; a list's schema adds `items` (and, for a list older than 1.3, its alias)."""

    total = fields.Integer(required=True, metadata={"description": "how many there are in all"})
    limit = fields.Integer(
        required=True, allow_none=True, metadata={"description": "the page's size as asked; null: the whole list is here"}
    )
    offset = fields.Integer(required=True, metadata={"description": "where the page starts (0: the first)"})


def alias(of: str, since: str = "1.3") -> dict[str, Any]:
    """The metadata of a key kept beside `items` for the clients of before `since`."""
    return {
        "deprecated": True,
        "description": f"the same list as `items` (its key before {since}); kept until 2.0: read `items`. {of}".strip(),
    }
