"""Audit rules and the journal's hash chain, with nothing running."""
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from spc.services.audit.domain import journal
from spc.services.audit.domain.model import Compliance, Finding
from spc.shared.errors import Conflict

NOW = datetime(2026, 11, 25, 12, 0)


def finding(severity, fid="f1"):
    return Finding(fid, "s1", "neutrality", severity, "summary", "inspector", NOW)


@pytest.mark.parametrize("severity,violation", [("minor", False), ("major", True), ("critical", True)])
def test_major_and_critical_findings_are_violations(severity, violation):
    c = Compliance("s1", known=True)
    c.record(finding(severity))
    types = [e.event_type for e in c.pull_events()]
    assert ("audit.violation_confirmed" in types) is violation
    assert c.open_violations == int(violation)


def test_resolving_the_last_violation_reports_none_left_with_a_newer_audit_version():
    c = Compliance("s1", known=True)
    f1, f2 = finding("major", "f1"), finding("critical", "f2")
    c.record(f1)
    c.record(f2)
    c.resolve(f1, "fixed", "auditor", NOW)
    c.resolve(f2, "fixed", "auditor", NOW)
    last = c.pull_events()[-1]
    assert last.event_type == "audit.violation_resolved" and last.open_violations == 0 and last.audit_version == 4


def test_a_finding_cannot_be_resolved_twice():
    c = Compliance("s1", known=True)
    f = finding("major")
    c.record(f)
    c.resolve(f, "fixed", "auditor", NOW)
    with pytest.raises(Conflict):
        c.resolve(f, "again", "auditor", NOW)


def test_a_minor_finding_escalates_to_a_violation_only_after_its_deadline():
    c = Compliance("s1", known=True)
    f = finding("minor")
    c.record(f)
    assert f.remediation_deadline == NOW + timedelta(days=30)
    assert not c.escalate(f, NOW + timedelta(days=29))
    assert c.escalate(f, NOW + timedelta(days=30))
    assert f.is_violation and c.open_violations == 1


def chain(n=3):
    entries, seq, head = [], 0, journal.GENESIS
    for i in range(n):
        e = journal.next_entry(seq, head, f"e{i}", "x.y", f'{{"i":{i}}}')
        entries.append(e)
        seq, head = e.seq, e.hash
    return entries


def test_an_intact_journal_verifies():
    assert journal.verify(chain()) == {"ok": True, "length": 3}


def test_a_tampered_entry_is_found():
    entries = chain()
    entries[1] = replace(entries[1], body='{"i":99}')
    assert journal.verify(entries) == {"ok": False, "first_bad_seq": 2}


def test_a_removed_entry_is_found():
    entries = chain()
    del entries[1]
    assert journal.verify(entries) == {"ok": False, "first_bad_seq": 2}


def test_audit_follows_the_registry_standing_newest_version_wins():
    c = Compliance("s1")
    assert not c.known
    c.follow_registry("suspended", 3)
    c.follow_registry("active", 2)  # older, delivered late
    assert (c.known, c.registry_status, c.registry_version) == (True, "suspended", 3)
    c.follow_registry("active", 4)
    assert (c.registry_status, c.registry_version) == ("active", 4)


def test_audit_keeps_the_commitments_of_the_newest_standing_only():
    c = Compliance("s1")
    assert c.commitment("neutrality") is None  # not heard of yet
    c.follow_registry("active", 4, [{"principle": "neutrality", "text": "No political material."}], 2)
    c.follow_registry("active", 2, [{"principle": "neutrality", "text": "Old wording."}], 1)  # late
    c.follow_registry("active", 4, [], 1)  # redelivered or replayed, whatever it carries
    assert c.commitment("neutrality") == {"principle": "neutrality", "text": "No political material.",
                                          "pact_version": 2}
    assert c.commitment("equality") is None


def test_a_contract_v1_commitment_is_known_with_no_text():
    c = Compliance("s1")
    c.follow_registry("active", 2, [{"principle": "equality", "text": None}])
    assert c.commitment("equality") == {"principle": "equality", "text": None, "pact_version": 1}


def test_audit_follows_an_expired_pact_and_its_renewal():
    c = Compliance("s1")
    c.follow_registry("expired", 5)
    assert c.registry_status == "expired"
    c.follow_registry("active", 6)
    assert (c.registry_status, c.registry_version) == ("active", 6)
