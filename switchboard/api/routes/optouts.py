"""`/v2/messaging_optouts`: the block rules opt-out keywords created."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.parsing import pagination, query_bool, query_datetime
from switchboard.domain.resources import messaging_optout
from switchboard.services import optouts


async def list_optouts(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    q = request.query_params
    redact = query_bool(request, "redaction_enabled") or False
    rows, total = await optouts.list_opt_outs(
        request.app.state.runtime,
        account_id,
        messaging_profile_id=q.get("filter[messaging_profile_id]") or None,
        from_address=q.get("filter[from]") or None,
        created_gte=query_datetime(request, "created_at[gte]"),
        created_lte=query_datetime(request, "created_at[lte]"),
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page(
        [messaging_optout(r, redact=redact) for r in rows], total, page_number, page_size
    )


routes = [Route("/messaging_optouts", list_optouts, methods=["GET"])]
