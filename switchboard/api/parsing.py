"""Request parsing: JSON bodies into validated models, flat query keys, pagination."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from switchboard.domain import errors
from switchboard.domain.clock import parse_iso
from switchboard.domain.errors import ApiError

Model = TypeVar("Model", bound=BaseModel)

MAX_PAGE_SIZE = 250


async def json_body(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx naming what is wrong with it."""
    limit: int = request.app.state.runtime.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(errors.PAYLOAD_TOO_LARGE, f"The body is larger than {limit} bytes.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(errors.PAYLOAD_TOO_LARGE, f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    request.state.raw_body = raw  # the exact bytes, for Idempotency-Key comparisons
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiError(errors.BAD_REQUEST, "The request body must be a JSON object.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise ApiError(
            errors.UNSUPPORTED_MEDIA_TYPE,
            "Send the body as JSON with Content-Type application/json.",
        )
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = _loads_leniently(raw)
    if not isinstance(value, dict):
        raise ApiError(errors.BAD_REQUEST, "The request body must be a JSON object.")
    return value


def _loads_leniently(raw: bytes) -> Any:
    """The stdlib's reading of a body orjson refused (it is stricter: `"\\ud800"`, NaN),
    so such bodies get the field-level 4xx they always got; else the 400 for bad JSON."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(errors.INVALID_JSON, f"The body is not valid JSON: {exc}") from exc


def pointer(loc: tuple[int | str, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def validate(model: type[Model], body: dict[str, Any]) -> Model:
    """Validate a body; the first problem becomes an error whose pointer names the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(
            p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function"))
        )
        field = pointer(loc) if loc else None
        if first["type"] == "missing":
            name = loc[-1] if loc else "parameter"
            raise ApiError(
                errors.MISSING_PARAMETER, f"The '{name}' parameter is required.", pointer=field
            ) from None
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        name = ".".join(str(p) for p in loc) or "body"
        raise ApiError(errors.INVALID_PARAMETER, f"{name}: {message}", pointer=field) from None


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            errors.INVALID_PARAMETER, f"{name} must be an integer.", parameter=name
        ) from None
    if not low <= value <= high:
        raise ApiError(
            errors.INVALID_PARAMETER, f"{name} must be between {low} and {high}.", parameter=name
        )
    return value


def pagination(request: Request) -> tuple[int, int]:
    return (
        query_int(request, "page[number]", 1, 1, 1_000_000),
        query_int(request, "page[size]", 20, 1, MAX_PAGE_SIZE),
    )


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise ApiError(
            errors.INVALID_PARAMETER,
            f"{name} must be one of: {', '.join(choices)}.",
            parameter=name,
        )
    return raw


def query_datetime(request: Request, name: str) -> datetime | None:
    """An ISO 8601 query value (`2026-01-05T10:00:00Z`, `…+00:00`); 422 naming it if not.

    A `+` left unencoded in a query string arrives as a space; it is read as the `+` of
    the UTC offset it was.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw.strip())
    try:
        return parse_iso(value)
    except ValueError:
        raise ApiError(
            errors.INVALID_PARAMETER,
            f"{name} must be an ISO 8601 date and time, e.g. 2026-01-05T10:00:00Z.",
            parameter=name,
        ) from None


def query_bool(request: Request, name: str) -> bool | None:
    """`true` / `false` in any case; anything else is a 422 naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise ApiError(errors.INVALID_PARAMETER, f"{name} must be true or false.", parameter=name)
    return lowered == "true"
