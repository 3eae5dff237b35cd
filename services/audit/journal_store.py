"""The hash-chained journal in audit's database (its rules are the domain's: domain/journal.py)."""
from sqlalchemy import delete, func, insert, select, update

from spc.shared import envelope
from spc.shared.clock import utcnow
from spc.shared.bulk import among, insert_new, insert_rows
from spc.shared.persistence import insert_unless_taken
from spc.shared.unit_of_work import Repository

from . import orm
from .domain import journal


class Journal(Repository):
    """The hash-chained journal. Lanes `record` received events into `journal_pending` without
    touching the chain; `chain` appends what is pending, in batches, under a lock on the chain's
    head row, so the chain never forks and no lane waits for it. Rows of `journal` are only ever
    inserted (on PostgreSQL and SQLite a trigger refuses UPDATE and DELETE: migration 0007)."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    # -- the journal lane's inbox: an event is journaled once, whichever way it came -----------
    def seen_many(self, event_ids):
        ids = [str(i) for i in event_ids]
        found = set()
        for table in (orm.journal_pending, orm.journal):
            found |= {r[0] for r in self.session.execute(
                select(table.c.event_id).where(among(self.session, table.c.event_id, ids)))}
        return found

    def record_many(self, events):
        """Personal data (a report's text) is left out of the body: journal.journaled."""
        insert_rows(self.session, orm.journal_pending, self._pending_rows(events))

    def claim_many(self, events):
        """Record the events neither chained nor pending yet; returns the ids recorded. Two
        statements: the chained ones are looked up, the rest inserted unless pending already
        (ON CONFLICT DO NOTHING, which waits for a copy being recorded at the same moment)."""
        if not events:
            return set()
        ids = [str(e.event_id) for e in events]
        chained = {r[0] for r in self.session.execute(
            select(orm.journal.c.event_id).where(among(self.session, orm.journal.c.event_id, ids)))}
        return insert_new(self.session, orm.journal_pending,
                          self._pending_rows([e for e in events if str(e.event_id) not in chained]), "event_id")

    @staticmethod
    def _pending_rows(events):
        now, rows = utcnow(), []
        for e in events:
            body, service_id = journal.journaled(envelope.to_dict(e))
            rows.append({"event_id": str(e.event_id), "event_type": e.event_type, "body": body,
                         "received_at": now, "service_id": service_id})
        return rows

    def record_new(self, events):
        """Journal events received another way (inbound facts), those not journaled already: a
        copy journaled meanwhile by another lane is skipped, the rest of the batch goes on."""
        self.claim_many(events)

    # -- the chain ------------------------------------------------------------------------------
    def _head(self):
        query = (select(orm.journal_head.c.seq, orm.journal_head.c.hash)
                 .where(orm.journal_head.c.id == 1).with_for_update())
        row = self.session.execute(query).first()
        if row is None:  # the first entry ever; two first entries at once: one inserts, one waits
            insert_unless_taken(self.session, lambda: self.session.execute(insert(orm.journal_head).values(
                id=1, seq=0, hash=journal.GENESIS, checkpoint_seq=0, checkpoint_at=utcnow())))
            row = self.session.execute(query).first()
        return row.seq, row.hash

    def has_pending(self):
        return self.session.scalar(select(orm.journal_pending.c.id).limit(1)) is not None

    def chain(self, limit=500):
        """Append up to `limit` pending events to the chain, oldest first; returns how many."""
        seq, head = self._head()
        p = orm.journal_pending
        rows = self.session.execute(select(p.c.id, p.c.event_id, p.c.event_type, p.c.body, p.c.service_id)
                                    .order_by(p.c.id).limit(limit)).all()
        if not rows:
            return 0
        # a copy recorded while its original was being chained (the recorder looked in the chain
        # before the chainer committed, then found no pending row to conflict with) is dropped
        chained = {r[0] for r in self.session.execute(
            select(orm.journal.c.event_id).where(among(self.session, orm.journal.c.event_id, [r.event_id for r in rows])))}
        entries, now = [], utcnow()
        for row in (r for r in rows if r.event_id not in chained):
            entry = journal.next_entry(seq, head, row.event_id, row.event_type, row.body)
            seq, head = entry.seq, entry.hash
            entries.append({"seq": entry.seq, "event_id": entry.event_id, "event_type": entry.event_type,
                            "body": entry.body, "prev_hash": entry.prev_hash, "hash": entry.hash,
                            "recorded_at": now, "service_id": row.service_id})
        insert_rows(self.session, orm.journal, entries)
        self.session.execute(delete(p).where(among(self.session, p.c.id, [r.id for r in rows])))
        self.session.execute(update(orm.journal_head).where(orm.journal_head.c.id == 1)
                             .values(seq=seq, hash=head))
        return len(rows)

    def length(self):
        return self.session.execute(select(orm.journal_head.c.seq)).scalar() or 0

    def concerning(self, service_id, after=0, limit=500, event_types=None):
        """The chained entries about a service, by seq after `after`: (seq, event_id, event_type,
        recorded_at, body)."""
        j = orm.journal
        query = select(j.c.seq, j.c.event_id, j.c.event_type, j.c.recorded_at, j.c.body).where(
            j.c.service_id == service_id, j.c.seq > after)
        if event_types is not None:
            query = query.where(j.c.event_type.in_(list(event_types)))
        return self.session.execute(query.order_by(j.c.seq).limit(limit)).all()

    def count_concerning(self, service_id):
        j = orm.journal
        return self.session.scalar(select(func.count()).select_from(j).where(j.c.service_id == service_id))

    def entries(self, batch=1000, after=0, upto=None):
        """The chained entries after seq `after` (up to seq `upto`, if given), in order (read
        `batch` at a time)."""
        last = after
        while True:
            rows = self.entry_batch(last, batch, upto)
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].seq

    def entry_batch(self, after, limit, upto=None):
        """Up to `limit` chained entries after seq `after` (up to seq `upto`, if given), in order."""
        j = orm.journal
        query = select(j.c.seq, j.c.event_id, j.c.event_type, j.c.body, j.c.prev_hash, j.c.hash).where(j.c.seq > after)
        if upto is not None:
            query = query.where(j.c.seq <= upto)
        rows = self.session.execute(query.order_by(j.c.seq).limit(limit)).all()
        return [journal.Entry(*row) for row in rows]

    # -- checkpoints: the head published ------------------------------------------------------
    def head(self, for_update=False):
        """The chain's head with its last checkpoint (None before the first entry ever)."""
        query = select(journal.JournalHead).where(journal.JournalHead.id == 1)
        found = self.session.scalars(query.with_for_update() if for_update else query).first()
        return self._seen(found)

    def moved_since(self, seq):
        """Whether an entry other than a checkpoint was chained after `seq`."""
        j = orm.journal
        return self.session.scalar(select(j.c.seq).where(
            j.c.seq > seq, j.c.event_type != journal.CHECKPOINT).order_by(j.c.seq).limit(1)) is not None
