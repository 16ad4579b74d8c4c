"""`/v2/messaging_profiles/{profile_id}/autoresp_configs`: a profile's keywords and replies."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import AutorespConfigBody
from switchboard.api.parsing import json_body, query_datetime, validate
from switchboard.api.responses import JSON
from switchboard.domain.resources import autoresp_config
from switchboard.services import autoresp
from switchboard.services.autoresp import ConfigFields


def _fields(body: AutorespConfigBody) -> ConfigFields:
    return ConfigFields(body.op, body.keywords, body.country_code, body.resp_text)


async def list_configs(request: Request) -> Response:
    account_id = await require_account(request)
    rows = await autoresp.list_configs(
        request.app.state.runtime,
        account_id,
        request.path_params["profile_id"],
        country_code=request.query_params.get("country_code") or None,
        created_gte=query_datetime(request, "created_at[gte]"),
        created_lte=query_datetime(request, "created_at[lte]"),
        updated_gte=query_datetime(request, "updated_at[gte]"),
        updated_lte=query_datetime(request, "updated_at[lte]"),
    )
    # Not paginated by the SDK: everything in one page, with all four `meta` integers.
    return JSON(
        {
            "data": [autoresp_config(r) for r in rows],
            "meta": {
                "page_number": 1,
                "page_size": max(len(rows), 1),
                "total_pages": 1,
                "total_results": len(rows),
            },
        }
    )


async def create_config(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(AutorespConfigBody, await json_body(request))
    row = await autoresp.create(
        request.app.state.runtime, account_id, request.path_params["profile_id"], _fields(body)
    )
    return responses.data(autoresp_config(row))


async def get_config(request: Request) -> Response:
    account_id = await require_account(request)
    row = await autoresp.get(
        request.app.state.runtime,
        account_id,
        request.path_params["profile_id"],
        request.path_params["config_id"],
    )
    return responses.data(autoresp_config(row))


async def replace_config(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(AutorespConfigBody, await json_body(request))
    row = await autoresp.replace(
        request.app.state.runtime,
        account_id,
        request.path_params["profile_id"],
        request.path_params["config_id"],
        _fields(body),
    )
    return responses.data(autoresp_config(row))


async def delete_config(request: Request) -> Response:
    account_id = await require_account(request)
    await autoresp.delete(
        request.app.state.runtime,
        account_id,
        request.path_params["profile_id"],
        request.path_params["config_id"],
    )
    return JSON("OK")


_ONE = "/messaging_profiles/{profile_id}/autoresp_configs/{config_id}"

routes = [
    Route("/messaging_profiles/{profile_id}/autoresp_configs", list_configs, methods=["GET"]),
    Route("/messaging_profiles/{profile_id}/autoresp_configs", create_config, methods=["POST"]),
    Route(_ONE, get_config, methods=["GET"]),
    Route(_ONE, replace_config, methods=["PUT"]),
    Route(_ONE, delete_config, methods=["DELETE"]),
]
