"""The journal as others hold it: its export (JSON Lines that anyone can verify with a few lines of
Python, docs/verify-journal.md) and the checkpoints of its head published on spc.events."""
from spc.shared.clock import utcnow

from .domain import journal

DEFAULT_CHECKPOINT_SECONDS = 300


def export_journal(uow, write, after=0, batch=1000):
    """`write(line)` each chained entry after seq `after`, in order, up to the head as it stood when
    the export began (entries chained meanwhile are for the next export). Each batch is read in a
    transaction of its own, so a long export never holds SQLite's write lock for long: the rows
    read never change (the journal is append-only). Returns (entries written, the last one's seq,
    its hash), or (0, `after`, None) when there is nothing after `after`."""
    with uow:
        upto = uow.journal.length()
    count, last_seq, last_hash = 0, after, None
    while True:
        with uow:
            entries = [e for e in uow.journal.entry_batch(last_seq, batch) if e.seq <= upto]
        for entry in entries:
            write(journal.export_line(entry) + "\n")
        if entries:
            count, last_seq, last_hash = count + len(entries), entries[-1].seq, entries[-1].hash
        if len(entries) < batch:
            return count, last_seq, last_hash


def checkpoint_journal(uow, every_seconds=DEFAULT_CHECKPOINT_SECONDS, now=None):
    """Publish the chain's head (audit.journal_checkpoint, through the outbox) if a checkpoint is
    due (domain/journal.JournalHead.checkpoint). Returns the seq published, or None."""
    now = now or utcnow()
    with uow:
        head = uow.journal.head(for_update=True)
        if head is None or not head.checkpoint(now, every_seconds, uow.journal.moved_since(head.checkpoint_seq)):
            return None
        uow.commit()
        return head.seq
