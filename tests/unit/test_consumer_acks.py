"""When one `basic.ack multiple` may settle a batch (shared/messaging/consumer.py, acks_only): only when
every message of the channel still unsettled up to the batch's last tag is in the batch."""

from spc.shared.messaging.consumer import acks_only


def test_a_batch_holding_every_unsettled_tag_below_its_last_is_acked_at_once():
    assert acks_only({3, 4, 5}, {3, 4, 5, 9, 10})  # later deliveries are not covered
    assert acks_only({7}, {7})


def test_never_when_an_earlier_message_is_held_elsewhere():
    assert not acks_only({3, 4, 5}, {2, 3, 4, 5})
    assert not acks_only({3, 5}, {3, 4, 5})  # one in between, another lane's


def test_never_for_a_message_not_known_unsettled():
    """A message of a former channel (the connection came back meanwhile), or settled already."""
    assert not acks_only({3, 4}, {4})
    assert not acks_only({3, 4}, set())
