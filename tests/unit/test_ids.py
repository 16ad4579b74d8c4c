"""UUIDv7 ids: well formed, time ordered, never repeated, also across a fork."""

from __future__ import annotations

import os
import uuid

from switchboard.domain import ids


def test_new_id_is_a_version_7_rfc_uuid() -> None:
    value = uuid.UUID(ids.new_id())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_ids_are_unique_across_many_pool_refills() -> None:
    count = 20_000  # ~50 refills of the random pool
    made = [ids.new_id() for _ in range(count)]
    assert len(set(made)) == count
    # Time-ordered at millisecond precision: the timestamp prefix never goes back.
    prefixes = [m[:13] for m in made]
    assert prefixes == sorted(prefixes)


def test_a_forked_child_does_not_reuse_the_parents_random_bytes() -> None:
    ids.new_id()  # the pool now holds unread bytes the child inherits
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next ids, then leave without cleanup
        os.close(read)
        os.write(write, ",".join(ids.new_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    os.waitpid(pid, 0)
    parent = [ids.new_id() for _ in range(5)]
    random_parts = {i[15:] for i in child} & {i[15:] for i in parent}
    assert not random_parts
