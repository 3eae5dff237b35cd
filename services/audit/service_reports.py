"""Audit's entrypoints for citizen reports (mixed into AuditService): auditors list and dismiss
them (POST /findings makes them part of a finding); two timers open the threshold's findings and
purge texts past their retention."""
from spc.shared.http import api
from spc.shared.timer import periodic

from . import reports
from .domain.commands import DismissReport, ReportFilter
from .exceptions import ReportAlreadyTriaged, ReportNotFound
from .schemas import CitizenReportOut, CitizenReportPage, DismissIn, ReportQuery
from .settings import ReportSettings

THRESHOLD_SWEEP_SECONDS = 2
PURGE_SECONDS = 600


class ReportEntrypoints:
    report_policy = ReportSettings()

    @api("GET", "/reports", role="auditor", query=ReportQuery, response=CitizenReportPage,
         summary="Citizen reports, newest first, with their texts (personal data: auditors only)")
    def list_reports(self, call):
        return reports.list_reports(self.store.uow(), ReportFilter(**call.query))

    @api("POST", "/reports/<string:report_id>/dismiss", role="auditor", body=DismissIn, response=CitizenReportOut,
         errors=(ReportNotFound, ReportAlreadyTriaged), summary="Dismiss a citizen report, with a reason")
    def dismiss_report(self, call, report_id):
        cmd = DismissReport(report_id, call.body["reason"], call.by)
        return reports.dismiss_report(self.store.uow(call), cmd)

    @periodic(interval=THRESHOLD_SWEEP_SECONDS)
    def open_threshold_findings(self):
        reports.open_threshold_findings(self.store.uow(), self.report_policy)

    @periodic(interval=PURGE_SECONDS, eager=True)
    def purge_report_texts(self):
        reports.purge_report_texts(self.store.uow(), self.report_policy)
