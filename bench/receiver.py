"""A local webhook receiver for bench/end_to_end.py, in its own process.

Answers every `POST /hooks` with 200 at once and remembers, per event, the
`time.monotonic()` it arrived (CLOCK_MONOTONIC, the same clock in every process on Linux, so
the sender's timestamps compare), the event type and the message id. `GET /stats` gives the
counts (and `finalized_distinct`: messages with at least one `message.finalized`),
`GET /dump` everything.

    python -m bench.receiver --port 9002
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

from aiohttp import web

records: list[tuple[float, str, str, str]] = []  # (arrived, event_type, message id, status)
counts: Counter[str] = Counter()
finalized_ids: set[str] = set()  # distinct messages with a message.finalized (retries repeat)


async def hook(request: web.Request) -> web.Response:
    arrived = time.monotonic()
    raw = await request.read()
    try:
        data = json.loads(raw)["data"]
        event_type = str(data.get("event_type"))
        payload = data.get("payload") or {}
        message_id = str(payload.get("id"))
        to = payload.get("to") or [{}]
        status = str(to[0].get("status")) if isinstance(to, list) and to else "?"
    except (ValueError, KeyError, TypeError, AttributeError):
        event_type, message_id, status = "unparsable", "", ""
    records.append((arrived, event_type, message_id, status))
    counts[event_type] += 1
    if event_type == "message.finalized":
        finalized_ids.add(message_id)
    return web.Response(status=200)


async def stats(_request: web.Request) -> web.Response:
    return web.json_response({**counts, "finalized_distinct": len(finalized_ids)})


async def dump(_request: web.Request) -> web.Response:
    return web.json_response(records)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.add_routes(
        [
            web.post("/hooks", hook),
            web.get("/stats", stats),
            web.get("/dump", dump),
            web.get("/healthz", healthz),
        ]
    )
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, loop=loop)


if __name__ == "__main__":
    main()
