"""MMS media: fetched and checked when the message is sent, recorded on the message.

A media URL that cannot be used fails the message (`sending_failed`, code 40009, the detail
says which URL and why). Timeouts, 5xx and 429 answers are retried after
`media.retry_after` seconds until the message's `valid_until`.
"""

from __future__ import annotations

from typing import Any

from switchboard.carriers.base import Refused
from switchboard.carriers.media import MediaError, MediaFetcher, MediaLimits
from switchboard.config import Settings
from switchboard.services.runtime import Runtime
from switchboard.store import sending as sending_store

INVALID_BODY = "40009"


def fetcher_for(settings: Settings) -> MediaFetcher | None:
    """The media fetcher of a worker process, or None when fetching is turned off."""
    media = settings.media
    if not media.fetch:
        return None
    return MediaFetcher(
        MediaLimits(
            max_total_bytes=media.max_total_bytes,
            timeout=media.timeout,
            max_redirects=media.max_redirects,
            content_types=tuple(t.lower() for t in media.content_types),
            allow_private=settings.media_allow_private,
        )
    )


async def prepare(
    rt: Runtime, fetcher: MediaFetcher | None, row: dict[str, Any]
) -> dict[str, Any] | Refused:
    """The claimed row with its media checked and described, or the refusal to record."""
    media = row.get("media") or []
    if fetcher is None or row["type"] != "MMS" or not media:
        return row
    if all(m.get("sha256") for m in media):  # fetched on an earlier attempt
        return row
    try:
        fetched = await fetcher.fetch_all([m["url"] for m in media])
    except MediaError as exc:
        return Refused(
            INVALID_BODY,
            f"Media {exc.url} {exc.detail}.",
            retry_after=rt.settings.media.retry_after if exc.temporary else None,
        )
    described = [
        {"url": f.url, "content_type": f.content_type, "size": f.size, "sha256": f.sha256}
        for f in fetched
    ]
    async with rt.transaction() as conn:
        await sending_store.set_media(conn, row["id"], described)
    return {**row, "media": described}


async def close(fetcher: MediaFetcher | None) -> None:
    if fetcher is not None:
        await fetcher.close()
