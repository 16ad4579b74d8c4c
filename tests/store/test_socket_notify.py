"""Wake-ups between the processes of one SQLite file (each notifier stands for a process)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from switchboard.store.socket_notify import SocketNotifier, wakeup_dir


async def until(condition: object, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_one_directory_per_database_file(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    assert wakeup_dir(str(db)) == wakeup_dir(str(tmp_path / "." / "a.db"))
    assert wakeup_dir(str(db)) != wakeup_dir(str(tmp_path / "b.db"))


def test_a_topic_wakes_the_other_processes_not_the_sender(tmp_path: Path) -> None:
    async def main() -> None:
        db = str(tmp_path / "n.db")
        worker, other_worker, api = SocketNotifier(db), SocketNotifier(db), SocketNotifier(db)
        woken: list[str] = []
        await worker.listen({"dispatch": lambda: woken.append("worker dispatch")})
        await other_worker.listen(
            {
                "dispatch": lambda: woken.append("other dispatch"),
                "webhooks": lambda: woken.append("other webhooks"),
            }
        )
        api.notify("dispatch")
        api.notify("dispatch")  # a burst: one datagram per listener
        await until(lambda: len(woken) >= 2)
        await asyncio.sleep(0.05)
        assert sorted(woken) == ["other dispatch", "worker dispatch"]
        woken.clear()
        worker.notify("webhooks")  # to the other worker only, never to itself
        await until(lambda: woken)
        await asyncio.sleep(0.05)
        assert woken == ["other webhooks"]
        for notifier in (worker, other_worker, api):
            await notifier.close()
        assert not wakeup_dir(db).exists()  # the last listener to go removes it

    asyncio.run(main())


def test_a_dead_listener_is_forgotten_and_the_others_still_woken(tmp_path: Path) -> None:
    async def main() -> None:
        db = str(tmp_path / "n.db")
        listener, api = SocketNotifier(db), SocketNotifier(db)
        woken: list[str] = []
        await listener.listen({"dispatch": lambda: woken.append("dispatch")})
        # A process that died without cleaning up leaves its socket file behind.
        dead = wakeup_dir(db) / "99999999-dead.sock"
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        stale.bind(str(dead))
        stale.close()
        api.notify("dispatch")
        await until(lambda: woken)
        assert not dead.exists()
        await listener.close()
        await api.close()

    asyncio.run(main())


def test_a_process_that_cannot_listen_runs_on_without_wake_ups(tmp_path: Path) -> None:
    async def main() -> None:
        db = str(tmp_path / "n.db")
        blocker = wakeup_dir(db)
        blocker.write_text("not a directory")  # as a directory of another user would be
        errors: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        try:
            notifier = SocketNotifier(db)
            await notifier.listen({"dispatch": lambda: None})
            notifier.notify("dispatch")
            await asyncio.sleep(0.01)
            await notifier.close()
        finally:
            blocker.unlink()
        assert errors == []  # not even in the callback that sends

    asyncio.run(main())
