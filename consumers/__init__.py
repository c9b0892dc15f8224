"""Kafka in and out (DESIGN §3).

- ``records``: record bytes → validated envelope, or the dead-letter code refusing it.
- ``dead_letters``: the ``contact-events.dlq`` letter and its confirmed publisher.
- ``consumer``: the group consumer; per-partition batches, exactly once into the store.
- ``relay``: message sends from the event log to ``outbound-messages``, once each.
- ``metrics``: lag, dead letters, ingested, relay position (Prometheus default registry).
- ``worker``: a loop on a thread with ``start()``/``stop()`` for ``profiles serve``.
"""
