"""The same-run baseline: a bare Starlette app answering a trivial JSON POST.

It runs under exactly the uvicorn settings of `switchboard serve` (uvloop, httptools, one
worker, lifespan on, access log off), so the ratio Switchboard / baseline says what our own
code costs on this machine, in this run, with this load tool.

    python -m bench.baseline_app --port 9001
"""

from __future__ import annotations

import argparse
import json
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def post(request: Request) -> Response:
    body = json.loads(await request.body())
    return JSONResponse(
        {
            "data": {
                "record_type": "message",
                "id": "01a21bd3-47bc-71b1-b6c4-d05522206995",
                "from": {"phone_number": body.get("from"), "line_type": "VoIP"},
                "to": [{"phone_number": body.get("to"), "status": "queued"}],
                "text": body.get("text"),
                "parts": 1,
                "encoding": "GSM-7",
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "authorization_seen": bool(request.headers.get("authorization")),
            }
        }
    )


app = Starlette(routes=[Route("/healthz", healthz), Route("/v2/messages", post, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=args.port,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_level="warning",
            access_log=False,
        )
    ).run()


if __name__ == "__main__":
    main()
