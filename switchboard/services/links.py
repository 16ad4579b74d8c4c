"""The URL shortener: links in outbound text become `/l/{code}` links; a click redirects.

A profile with `url_shortener_settings` gets every http(s) link of its messages replaced by
a short link on this server's public URL (only public-shortener links with
`replace_blacklist_only`). Each recipient gets its own codes, so a click says who clicked.
`encoding`, `parts` and the cost are those of the text actually sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.clock import utcnow
from switchboard.domain.encoding import EncodingMode, analyze
from switchboard.domain.ids import new_id
from switchboard.domain.links import clean_prefix, rewrite
from switchboard.domain.pricing import message_cost
from switchboard.services import webhooks
from switchboard.services.runtime import Runtime
from switchboard.store import links as link_store
from switchboard.store import profiles as profile_store
from switchboard.webhooks.envelope import LinkClickEvent

LINK_PATH = "/l/"


def link_base(rt: Runtime) -> str:
    return rt.settings.base_url + LINK_PATH


async def shorten(
    rt: Runtime,
    conn: AsyncConnection,
    profile: dict[str, Any],
    row: dict[str, Any],
    encoding_mode: str = "auto",
) -> None:
    """Rewrite the links of an outbound row about to be stored (no-op without settings).

    Updates `sent_text` and what depends on it (`encoding`, `parts`, `num_chars`, cost) and
    stores the row's short links in the caller's transaction.
    """
    settings = profile.get("url_shortener_settings")
    if not settings or "://" not in row["sent_text"]:
        return
    base = link_base(rt)
    prefix = clean_prefix(settings.get("prefix"))
    start = base + (f"{prefix}/" if prefix else "")
    text, replaced = rewrite(
        row["sent_text"],
        lambda code: start + code,
        blacklist_only=bool(settings.get("replace_blacklist_only")),
        keep=lambda url: url.startswith(base),
    )
    if not replaced:
        return
    row["sent_text"] = text
    if row["type"] == "SMS":
        mode: EncodingMode = "ucs2" if encoding_mode == "ucs2" else "auto"
        encoded = analyze(text, mode)
        row["encoding"], row["parts"], row["num_chars"] = (
            encoded.encoding,
            encoded.parts,
            encoded.num_chars,
        )
        row["cost_amount"] = message_cost(
            rt.settings.rates, row["type"], row["to_country"], encoded.parts
        )
    else:
        row["num_chars"] = len(text)
    await link_store.insert_links(
        conn,
        [
            {
                "code": r.code,
                "account_id": row["account_id"],
                "message_id": row["id"],
                "messaging_profile_id": profile["id"],
                "to_address": row["to_address"],
                "url": r.url,
                "send_webhooks": bool(settings.get("send_webhooks")),
                "created_at": row["received_at"],
            }
            for r in replaced
        ],
    )


async def click(rt: Runtime, code: str, user_agent: str | None, *, record: bool) -> str | None:
    """Where a short link goes (None: unknown code). A recorded click notifies the
    profile's webhooks when the profile asked for link-click webhooks."""
    if not record:
        async with rt.read() as conn:
            link = await link_store.get_link(conn, code)
        return str(link["url"]) if link else None
    now = utcnow()
    async with rt.transaction() as conn:
        link = await link_store.get_link(conn, code)
        if link is None:
            return None
        await link_store.insert_click(
            conn,
            {
                "id": new_id(),
                "code": code,
                "clicked_at": now,
                "user_agent": (user_agent or "")[:1000] or None,
            },
        )
        if link["send_webhooks"]:
            await _notify(rt, conn, link, now)
    return str(link["url"])


async def _notify(rt: Runtime, conn: AsyncConnection, link: dict[str, Any], now: datetime) -> None:
    profile = None
    if link["messaging_profile_id"]:
        profile = await profile_store.get_profile(
            conn, link["account_id"], link["messaging_profile_id"]
        )
    event = LinkClickEvent(
        id=new_id(),
        message_id=link["message_id"],
        to=link["to_address"],
        url=link["url"],
        time_clicked=now,
    )
    await webhooks.enqueue_event(
        rt,
        conn,
        account_id=link["account_id"],
        event=event,
        targets=webhooks.profile_targets(profile),
        now=now,
        message_id=link["message_id"],
    )


def url_domains(rt: Runtime) -> list[dict[str, Any]]:
    """The one domain short links live on: this server's public URL."""
    base = rt.settings.base_url
    return [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, base)),
            "record_type": "messaging_url_domain",
            "url_domain": base,
            "use_case": "url_shortener",
        }
    ]
