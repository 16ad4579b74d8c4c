"""The ASGI application: `/v2` API, `/healthz`, the console at `/`, and the workers' lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from switchboard.api import errors as api_errors
from switchboard.api.auth import KeyCache
from switchboard.api.direct_routes import DirectRoutesApp
from switchboard.api.responses import JSON
from switchboard.api.routes import autoresp as autoresp_routes
from switchboard.api.routes import bulk_updates as bulk_update_routes
from switchboard.api.routes import links as link_routes
from switchboard.api.routes import messages, numbers, profiles, webhook_deliveries
from switchboard.api.routes import number_settings as number_settings_routes
from switchboard.api.routes import optouts as optout_routes
from switchboard.api.routes import profile_views as profile_view_routes
from switchboard.api.routes import sandbox as sandbox_routes
from switchboard.api.routes import sender_ids as sender_id_routes
from switchboard.config import Settings
from switchboard.console import routes as console_routes
from switchboard.domain.errors import ApiError
from switchboard.process import running
from switchboard.services import accounts


@dataclass(frozen=True)
class ReadyInfo:
    """What start-up prints: how to reach the API and what was set up."""

    settings: Settings
    startup: accounts.StartupInfo
    sandbox_numbers: list[str]


async def healthz(_request: Request) -> Response:
    return JSON({"status": "ok"})


def api_routes() -> list[Route]:
    return [
        *messages.routes,  # first: sending is by far the most frequent request
        *profiles.routes,
        *profile_view_routes.routes,
        # Before numbers.routes: `/phone_numbers/messaging` must not match `/phone_numbers/{id}`.
        *number_settings_routes.routes,
        *numbers.routes,
        *bulk_update_routes.routes,
        *sender_id_routes.routes,
        *webhook_deliveries.routes,
        *autoresp_routes.routes,
        *optout_routes.routes,
        *sandbox_routes.routes,
        *link_routes.routes,
    ]


def create_app(
    settings: Settings,
    *,
    run_workers: bool = True,
    on_ready: Callable[[ReadyInfo], None] | None = None,
) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with running(settings, with_workers=run_workers) as process:
            app.state.runtime = process.rt
            app.state.key_cache = KeyCache()
            app.state.default_account_id = process.startup.account_id  # the console's account
            # Virtual handsets send through the sandbox carrier, as phones do through a network.
            workers = process.workers
            app.state.sandbox_network = workers.carriers.sandbox if workers else None
            if on_ready:
                on_ready(ReadyInfo(settings, process.startup, process.sandbox_numbers))
            yield

    return DirectRoutesApp(
        # Sending, by far the most frequent request, is called without the router and
        # middleware stack (api/direct_routes.py); it is also routed as usual below.
        direct={("POST", "/v2/messages"): messages.send},
        routes=[
            # Matched before anything else and without going through the `/v2` mount's own
            # router; other methods on this path (the list) fall through to the mount.
            Route("/v2/messages", messages.send, methods=["POST"]),
            Route("/healthz", healthz),
            Mount("/v2", routes=api_routes()),
            *link_routes.redirect_routes,
            # Last: the console's pages at `/` never shadow the paths above.
            *(console_routes.routes(settings) if settings.console_enabled else []),
        ],
        exception_handlers={
            ApiError: api_errors.api_error_handler,
            HTTPException: api_errors.http_error_handler,
            Exception: api_errors.unexpected_error_handler,
        },
        lifespan=lifespan,
    )
