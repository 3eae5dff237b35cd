"""The embedded broker for `spc up` with no AMQP_URI: kombu's in-process memory transport.

Two fixes over kombu's stock transport (see the stack notes): the content type is copied into
the message properties, and the polling interval drops from 1 s to 10 ms so events flow at once.
"""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import memory

EMBEDDED_URI = "spcmem://localhost//"


class Channel(memory.Channel):
    def prepare_message(self, body, priority=None, content_type=None, content_encoding=None, headers=None, properties=None):
        properties = dict(properties or {})
        properties.setdefault("content_type", content_type)
        properties.setdefault("content_encoding", content_encoding)
        return super().prepare_message(body, priority, content_type, content_encoding, headers, properties)


class Transport(memory.Transport):
    Channel = Channel
    polling_interval = 0.01


def register():
    TRANSPORT_ALIASES["spcmem"] = "spc.runtime.embedded:Transport"
