"""Time in one place: UTC, stored naive in the databases, shown with an offset on the wire."""

from datetime import datetime, timezone
from typing import overload


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@overload
def to_wire(moment: datetime) -> str: ...
@overload
def to_wire(moment: None) -> None: ...


def to_wire(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def to_db(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
