"""The message broker the labs' services publish their domain events to (Kafka
in the documents: a topic per application, a consumer group per service).

One Broker per cluster (the kubelet makes it; apps get it in their Context).
Topics are kept per namespace, so two labs in two namespaces do not hear each
other. A consumer group's offset outlives its pods, as Kafka's committed
offsets do: a service that was down reads what was published meanwhile when
it comes back (eventual consistency). Each topic keeps its last 10,000
messages.
"""

import asyncio

KEEP = 10_000


class _Topic:
    def __init__(self):
        self.messages: list[dict] = []
        self.base = 0                       # offset of messages[0]
        self.offsets: dict[str, int] = {}   # group -> next offset to read
        self.wake = asyncio.Event()

    def publish(self, message: dict) -> None:
        self.messages.append(message)
        if len(self.messages) > KEEP:
            drop = len(self.messages) - KEEP
            del self.messages[:drop]
            self.base += drop
        self.wake.set()

    @property
    def end(self) -> int:
        return self.base + len(self.messages)


class Broker:
    def __init__(self):
        self._topics: dict[tuple[str, str], _Topic] = {}

    def topic(self, namespace: str, name: str) -> _Topic:
        return self._topics.setdefault((namespace, name), _Topic())

    def publish(self, namespace: str, name: str, message: dict) -> None:
        self.topic(namespace, name).publish(dict(message))

    async def consume(self, namespace: str, name: str, group: str):
        """Messages for the group from its committed offset on; a new group starts
        at the earliest kept (Spring Cloud Stream's startOffset for a named group).
        Each is committed once taken."""
        t = self.topic(namespace, name)
        t.offsets.setdefault(group, t.base)
        while True:
            pos = max(t.offsets[group], t.base)
            if pos < t.end:
                t.offsets[group] = pos + 1
                yield t.messages[pos - t.base]
                continue
            t.wake.clear()
            await t.wake.wait()
