"""The SQLite transaction lock: one holder, urgent waiters first, the others in order."""

import eventlet

from spc.shared.sql.persistence import PriorityLock


def test_urgent_waiters_go_before_bulk_ones_and_each_kind_keeps_its_order():
    lock, order = PriorityLock(), []

    def work(name, urgent):
        with_lock = lock.acquire(urgent)
        order.append(name)
        eventlet.sleep(0.01)
        lock.release()
        return with_lock

    lock.acquire()
    threads = [eventlet.spawn(work, f"bulk{i}", False) for i in range(3)]
    eventlet.sleep(0)
    threads += [eventlet.spawn(work, f"urgent{i}", True) for i in range(2)]
    eventlet.sleep(0)
    lock.release()
    for t in threads:
        t.wait()
    assert order == ["urgent0", "urgent1", "bulk0", "bulk1", "bulk2"]


def test_a_waiter_killed_in_line_does_not_keep_the_lock():
    lock = PriorityLock()
    lock.acquire()
    doomed = eventlet.spawn(lock.acquire, True)
    eventlet.sleep(0)
    doomed.kill()
    lock.release()
    assert eventlet.spawn(lock.acquire, False).wait(), "the lock is free again"


def test_a_stray_wakeup_of_a_waiter_does_not_give_it_the_lock():
    """A greenthread switched into by something other than the lock's release (see
    shared/service/timer.py) keeps waiting: two holders would meet in SQLite's own lock, inside C."""
    lock, got = PriorityLock(), []
    lock.acquire()
    waiter = eventlet.spawn(lambda: (lock.acquire(), got.append(True)))
    eventlet.sleep(0)
    eventlet.hubs.get_hub().schedule_call_global(0, waiter.switch)
    eventlet.sleep(0.01)
    assert got == []
    lock.release()
    waiter.wait()
    assert got == [True]
