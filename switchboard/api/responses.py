"""JSON responses: compact, UTF-8, always `application/json` (the SDK's strict mode needs it)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def _dumps(value: Any) -> bytes:
    # Compact UTF-8, as json.dumps(ensure_ascii=False, separators=(",", ":")) would write it.
    return orjson.dumps(value)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _dumps(content)


def data(value: Any, status_code: int = 200) -> JSON:
    return JSON({"data": value}, status_code=status_code)


def page(items: list[Any], total: int, page_number: int, page_size: int) -> JSON:
    """The flat pagination envelope; `meta` always carries all four integers."""
    total_pages = (total + page_size - 1) // page_size
    return JSON(
        {
            "data": items,
            "meta": {
                "page_number": page_number,
                "page_size": page_size,
                "total_pages": total_pages,
                "total_results": total,
            },
        }
    )
