"""Audit rules and the journal's hash chain, with nothing running."""

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from spc.services.audit.domain import journal
from spc.services.audit.domain.model import Compliance, Finding
from spc.shared.core.errors import Conflict

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
    assert c.commitment("neutrality") == {"principle": "neutrality", "text": "No political material.", "pact_version": 2}
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


# -- found by the mutation run (docs/mutation.md) ----------------------------------------------------


def exported(entries):
    """The entries as a verifier reads them back from the export (docs/verify-journal.md): every
    string and number a separate object, none shared with the entry before."""
    return [journal.Entry(**json.loads(journal.export_line(e))) for e in entries]


def test_a_long_chain_read_back_from_its_export_verifies():
    entries = exported(chain(300))
    assert entries[0].prev_hash == "0" * 64  # the first entry follows 64 zeros (the documented genesis)
    assert journal.verify(entries) == {"ok": True, "length": 300}


@pytest.mark.parametrize("shift", [1, -1])
def test_a_changed_sequence_number_is_found_at_its_entry(shift):
    entries = exported(chain(300))
    entries[280] = replace(entries[280], seq=entries[280].seq + shift)
    assert journal.verify(entries) == {"ok": False, "first_bad_seq": 281}


def test_a_link_changed_to_sort_either_side_is_found():
    entries = exported(chain(3))
    for prev_hash in ("0" * 64, "f" * 64):
        for hash_ in ("0" * 64, "f" * 64):
            tampered = list(entries)
            tampered[1] = replace(entries[1], prev_hash=prev_hash)
            assert journal.verify(tampered) == {"ok": False, "first_bad_seq": 2}
            tampered[1] = replace(entries[1], hash=hash_)
            assert journal.verify(tampered) == {"ok": False, "first_bad_seq": 2}


def test_a_repeated_entry_is_found_at_the_place_it_takes():
    entries = chain(3)
    assert journal.verify([entries[0], entries[1], entries[1], entries[2]]) == {"ok": False, "first_bad_seq": 3}
    assert journal.verify([entries[0], entries[0]]) == {"ok": False, "first_bad_seq": 2}


def test_the_hashed_form_of_an_event_is_canonical_json():
    """Keys sorted, no spaces, characters kept as they are: what an outside verifier recomputes."""
    assert journal.canonical({"b": 1, "a": "Crèche « Les Lutins »"}) == '{"a":"Crèche « Les Lutins »","b":1}'


def test_the_journal_keeps_the_event_but_not_a_report_s_words():
    report = {
        "event_type": "usager.report_submitted",
        "event_id": "e1",
        "payload": {"service_id": "s1", "text": "Mme Martin, 12 rue…", "counter_id": "c1"},
    }
    body, service_id = journal.journaled(report)
    assert json.loads(body)["payload"] == {"service_id": "s1", "text": None, "counter_id": "c1"}
    assert service_id == "s1"
    other = {"event_type": "registry.service_approved", "event_id": "e2", "payload": {"service_id": "s2", "text": "kept"}}
    assert json.loads(journal.journaled(other)[0]) == other and journal.journaled(other)[1] == "s2"
    assert journal.journaled({"event_type": "x.y", "event_id": "e3", "payload": {"service_id": 7}})[1] is None
    assert journal.journaled({"event_type": "x.y", "event_id": "e4"})[1] is None


def test_an_empty_journal_s_head_is_the_genesis_with_nothing_published():
    head = journal.JournalHead()
    assert (head.id, head.seq, head.hash, head.checkpoint_seq, head.checkpoint_at) == (1, 0, "0" * 64, 0, None)
    assert not head.checkpoint(datetime(2026, 1, 1), 300, moved=False)  # nothing journaled: nothing to publish


def rechained(entries, start, seqs=None, prev_hash=None):
    """What a forger who recomputes the hashes makes of `entries` from index `start` on: each
    entry linked to the one before (or to `prev_hash` first), with the sequence numbers `seqs`."""
    out = list(entries[:start])
    prev = prev_hash or (out[-1].hash if out else journal.GENESIS)
    for i, e in enumerate(entries[start:]):
        seq = seqs[i] if seqs else e.seq
        h = journal.entry_hash(seq, prev, e.event_id, e.event_type, e.body)
        out.append(journal.Entry(seq, e.event_id, e.event_type, e.body, prev, h))
        prev = h
    return out


@pytest.mark.parametrize("shift", [1, -1])
def test_a_chain_renumbered_and_rehashed_from_an_entry_on_is_found_by_its_numbering(shift):
    entries = exported(chain(300))
    forged = rechained(entries, 280, seqs=[e.seq + shift for e in entries[280:]])
    assert journal.verify(forged) == {"ok": False, "first_bad_seq": 281}
    cut = rechained(entries[:280] + entries[281:], 280)  # an entry removed, the rest rehashed
    assert journal.verify(cut) == {"ok": False, "first_bad_seq": 281}


@pytest.mark.parametrize("prev_hash", ["0" * 64, "f" * 64])
def test_an_entry_linked_elsewhere_and_rehashed_is_found_at_that_entry(prev_hash):
    entries = exported(chain(3))
    forged = rechained(entries, 1, prev_hash=prev_hash)
    assert journal.verify(forged) == {"ok": False, "first_bad_seq": 2}
