"""The agenda's endpoints and the reminders' periodic check, for a service that holds deadlines
(registry, funding, audit). The service class says what its deadlines are (`deadlines_of`,
its handlers') and where it remembers the reminders it sent (`reminders_table`, its ORM's)."""

import logging
from typing import Any, Callable

from nameko.dependency_providers import Config

from ..web.http import api
from ..sql.reminders import AgendaOut, AgendaQuery, agenda_answer, send_due
from .timer import periodic

log = logging.getLogger(__name__)


class AgendaEndpoints:
    config = Config()
    deadlines_of: Callable[..., Any] | None = None  # staticmethod(handlers.deadlines): (uow, until, service_id) -> [Deadline]
    reminders_table = None

    @api(
        "GET",
        "/agenda",
        query=AgendaQuery,
        response=AgendaOut,
        summary="What falls due within `within` days (30d by default), and what is overdue, soonest first",
    )
    def agenda(self, call):
        return agenda_answer(self.store.uow(), type(self).deadlines_of, call.query["within"])

    @api(
        "GET",
        "/services/<string:service_id>/agenda",
        scoped=("service",),
        query=AgendaQuery,
        response=AgendaOut,
        summary="A service's own deadlines here (its own token may read them)",
    )
    def service_agenda(self, call, service_id):
        return agenda_answer(self.store.uow(), type(self).deadlines_of, call.query["within"], service_id)

    @periodic(interval=3600, config_key="REMINDER_SECONDS")
    def send_reminders(self):
        """Each deadline's reminders (shared/sql/reminders.py RULES), once each, ever."""
        sent = send_due(
            self.store.uow(),
            type(self).deadlines_of,
            f"{self.name}.reminder_due",
            self.reminders_table,
            self.config.get("REMINDER_DAYS", 14),
        )
        if sent:
            log.info("%d reminders sent", sent)
