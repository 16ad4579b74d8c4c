"""The web console at `/`: what the app sent and received, conversations with virtual
handsets, message details with their webhook deliveries, and the account's numbers,
profiles and opt-outs.

Server-rendered pages (Jinja2, autoescaped) over the services only. A page's live region
(`data-live`) is polled every second by `static/console.js`: the same URL with `live=…`
answers a small JSON object, `{"version": …}`, plus `"html"` when the region changed.
The two forms (reply as a handset, resend a webhook) are POSTs protected by a per-process
token, sent both as a cookie and as a hidden field, and by a same-origin check.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from switchboard.config import Settings
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.phone import InvalidNumber, parse_e164
from switchboard.domain.resources import message_resource
from switchboard.services import messages, numbers, optouts, profiles, sandbox, webhooks
from switchboard.services.runtime import Runtime

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "switchboard_console_csrf"
CSRF_FIELD = "csrf_token"
PAGE_SIZE = 50
TABLE_PAGE_SIZE = 100
MAX_FORM_BYTES = 64 * 1024
MAX_MEDIA_URLS = 10

# Message statuses a filter can ask for (outbound lifecycle, then inbound).
STATUSES = (
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "delivery_failed",
    "delivery_unconfirmed",
    "sending_failed",
    "expired",
    "cancelled",
    "webhook_delivered",
)
_GOOD = {"delivered", "webhook_delivered", "received"}
_BAD = {"sending_failed", "delivery_failed", "expired", "failed", "dropped"}
_WAIT = {"delivery_unconfirmed", "cancelled"}
_BUSY = {"sending", "sent", "delivering"}

NOTICES = {
    "resent": "The webhook is queued again; its new attempt appears below.",
    "busy": "That webhook is being sent right now; try again in a moment.",
    "dropped": "No account owns that number: the network dropped the message.",
    "not_ours": "That number belongs to another account; the message went there.",
}

_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


# --- template helpers --------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _badge(status: str | None) -> str:
    if status in _GOOD:
        return "badge good"
    if status in _BAD:
        return "badge bad"
    if status in _WAIT:
        return "badge warn"
    if status in _BUSY:
        return "badge info"
    return "badge"


def _pretty(value: Any) -> str:
    """JSON (or JSON text) indented for reading; other text as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _path(value: str) -> str:
    return quote(value, safe="+")


def _is_web_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)


def _linkify(text: str | None) -> Markup:
    """Text, escaped, with its http(s) links made clickable (short links count clicks)."""
    text = text or ""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        end = match.start() + len(url)
        out.append(str(escape(text[last : match.start()])))
        out.append(
            f'<a href="{escape(url)}" rel="noreferrer noopener" target="_blank">{escape(url)}</a>'
        )
        last = end
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:20]


def _parse_handset(value: str) -> str | None:
    try:
        return parse_e164(value).e164
    except InvalidNumber:
        return None


class Console:
    """The console's pages for one process (one CSRF token per process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.token = secrets.token_urlsafe(32)
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            when=_when,
            iso=_iso,
            badge=_badge,
            pretty=_pretty,
            path=_path,
            web_url=_is_web_url,
            linkify=_linkify,
        )
        self.env.globals.update(
            csrf_field=CSRF_FIELD, mode=settings.mode, api_url=settings.api_base_url
        )

    # --- plumbing ----------------------------------------------------------------------

    @staticmethod
    def _rt(request: Request) -> Runtime:
        rt: Runtime = request.app.state.runtime
        return rt

    @staticmethod
    def _account(request: Request) -> str:
        return str(request.app.state.default_account_id)

    def _render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(csrf_token=self.token, **context)

    def _html(self, html: str, status_code: int = 200) -> HTMLResponse:
        response = HTMLResponse(html, status_code=status_code, headers=_SECURITY_HEADERS)
        response.set_cookie(CSRF_COOKIE, self.token, httponly=True, samesite="strict", path="/")
        return response

    def _page(
        self,
        request: Request,
        template: str,
        live_template: str | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        """A whole page; or, asked with `live=<version>`, its live region as JSON."""
        notice = NOTICES.get(request.query_params.get("notice", ""))
        context.setdefault("notice", notice)
        context.setdefault("error", None)
        if live_template is None:
            return self._html(self._render(template, **context), status_code)
        live = self._render(live_template, **context)
        version = _version(live)
        if "live" in request.query_params:
            answer: dict[str, str] = {"version": version}
            if request.query_params["live"] != version:
                answer["html"] = live
            return JSONResponse(answer, headers=_SECURITY_HEADERS)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "notice"]
        live_url = request.url.path + "?" + urlencode([*query, ("live", "")])
        page = self._render(
            # `live` is this environment's own autoescaped output.
            template,
            live_html=Markup(live),
            live_version=version,
            live_url=live_url,
            **context,
        )
        return self._html(page, status_code)

    def _error(self, request: Request, status_code: int, title: str, detail: str) -> Response:
        html = self._render("error.html", title=title, detail=detail, notice=None, nav=None)
        return self._html(html, status_code)

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The posted form's fields when its token and origin are right, else None."""
        if request.headers.get("content-type", "").split(";")[0].strip() != (
            "application/x-www-form-urlencoded"
        ):
            return None
        origin = request.headers.get("origin")
        if origin is not None:
            allowed = {request.headers.get("host", "")}
            if self.settings.public_url:
                allowed.add(urlsplit(self.settings.public_url).netloc)
            if urlsplit(origin).netloc not in allowed:
                return None
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        fields = {
            k: v[0]
            for k, v in parse_qs(
                body.decode("utf-8", errors="replace"), keep_blank_values=True
            ).items()
        }
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = fields.get(CSRF_FIELD, "")
        if not (
            secrets.compare_digest(cookie.encode(), self.token.encode())
            and secrets.compare_digest(sent.encode(), self.token.encode())
        ):
            return None
        return fields

    def _forbidden(self, request: Request) -> Response:
        return self._error(
            request,
            403,
            "This form has expired",
            "The server restarted since the page was loaded, or the form came from another "
            "site. Go back, reload the page and try again.",
        )

    # --- messages ----------------------------------------------------------------------

    async def message_list(self, request: Request) -> Response:
        q = request.query_params
        number = (q.get("number") or "").strip() or None
        direction = q.get("direction") if q.get("direction") in ("inbound", "outbound") else None
        status = q.get("status") if q.get("status") in STATUSES else None
        page = _page_number(q.get("page"))
        rows = await messages.list_recent(
            self._rt(request),
            self._account(request),
            number=number,
            direction=direction,
            status=status,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        has_more = len(rows) > PAGE_SIZE
        filters = {"number": number or "", "direction": direction or "", "status": status or ""}
        base = {k: v for k, v in filters.items() if v}
        return self._page(
            request,
            "messages.html",
            "_message_rows.html",
            nav="messages",
            rows=rows[:PAGE_SIZE],
            filters=filters,
            filtered=bool(base),
            statuses=STATUSES,
            page=page,
            newer_url="?" + urlencode({**base, "page": page - 1}) if page > 1 else None,
            older_url="?" + urlencode({**base, "page": page + 1}) if has_more else None,
        )

    async def message_detail(self, request: Request) -> Response:
        rt, account_id = self._rt(request), self._account(request)
        message_id = request.path_params["id"]
        try:
            row, history = await messages.get_message_history(rt, account_id, message_id)
        except ApiError as exc:
            if exc.kind is not errors.NOT_FOUND:
                raise
            return self._error(
                request,
                404,
                "Message not found",
                "No message of this account has that id (messages older than "
                f"{rt.settings.message_retention_days} days are no longer shown).",
            )
        deliveries = await webhooks.message_deliveries(rt, account_id, message_id)
        inbound = row["direction"] == "inbound"
        return self._page(
            request,
            "message.html",
            "_message_live.html",
            nav="messages",
            m=row,
            resource=message_resource([row], account_id),
            history=history,
            deliveries=deliveries,
            handset=row["from_address"] if inbound else row["to_address"],
            number=row["to_address"] if inbound else row["from_address"],
        )

    async def resend(self, request: Request) -> Response:
        fields = await self._form(request)
        if fields is None:
            return self._forbidden(request)
        rt, account_id = self._rt(request), self._account(request)
        message_id = request.path_params["id"]
        try:
            queued = await webhooks.resend_delivery(
                rt, account_id, request.path_params["delivery_id"]
            )
        except ApiError as exc:
            if exc.kind is not errors.NOT_FOUND:
                raise
            return self._error(
                request, 404, "Webhook delivery not found", "No such webhook delivery."
            )
        notice = "resent" if queued else "busy"
        return RedirectResponse(f"/messages/{_path(message_id)}?notice={notice}", status_code=303)

    # --- conversations -----------------------------------------------------------------

    async def conversation_list(self, request: Request) -> Response:
        rt, account_id = self._rt(request), self._account(request)
        rows = await messages.list_conversations(rt, account_id)
        owned, _ = await numbers.list_numbers(rt, account_id, page_number=1, page_size=250)
        return self._page(
            request,
            "conversations.html",
            "_conversation_rows.html",
            nav="conversations",
            rows=rows,
            our_numbers=[n["phone_number"] for n in owned],
            can_compose=self._can_compose(request),
            error=None,
        )

    async def open_conversation(self, request: Request) -> Response:
        handset = _parse_handset((request.query_params.get("handset") or "").strip())
        number = _parse_handset((request.query_params.get("number") or "").strip())
        if handset is None or number is None:
            return self._error(
                request,
                422,
                "Not a phone number",
                "Give the handset and our number in E.164 form, e.g. +13125550100.",
            )
        return RedirectResponse(f"/conversations/{_path(handset)}/{_path(number)}", 303)

    def _can_compose(self, request: Request) -> bool:
        return sandbox.enabled(self._rt(request)) and (
            getattr(request.app.state, "sandbox_network", None) is not None
        )

    async def conversation(self, request: Request) -> Response:
        return await self._conversation(request)

    async def _conversation(
        self,
        request: Request,
        *,
        error: str | None = None,
        draft: str = "",
        status_code: int = 200,
    ) -> Response:
        rt, account_id = self._rt(request), self._account(request)
        handset = request.path_params["handset"]
        number = request.path_params["number"]
        if _parse_handset(handset) is None or _parse_handset(number) is None:
            return self._error(
                request, 404, "Not a phone number", "Conversations are between E.164 numbers."
            )
        rows = await messages.conversation(rt, account_id, handset, number)
        return self._page(
            request,
            "conversation.html",
            "_thread.html",
            status_code=status_code,
            nav="conversations",
            handset=handset,
            number=number,
            rows=rows,
            can_compose=self._can_compose(request),
            error=error,
            draft=draft,
        )

    async def compose(self, request: Request) -> Response:
        """The handset sends a message to our number, as `POST /v2/sandbox/handsets/…`."""
        fields = await self._form(request)
        if fields is None:
            return self._forbidden(request)
        handset = request.path_params["handset"]
        number = request.path_params["number"]
        text = fields.get("text", "").replace("\r\n", "\n")
        media = tuple(u.strip() for u in fields.get("media_urls", "").split() if u.strip())

        async def again(error: str) -> Response:
            return await self._conversation(request, error=error, draft=text, status_code=422)

        if not self._can_compose(request):
            return await again("The message was not sent.")
        if _parse_handset(handset) is None or _parse_handset(number) is None:
            return self._error(
                request, 404, "Not a phone number", "Conversations are between E.164 numbers."
            )
        if not text.strip() and not media:
            return await again("Write a message (or give a media URL) first.")
        if len(media) > MAX_MEDIA_URLS or not all(_is_web_url(u) for u in media):
            return await again(f"Media: up to {MAX_MEDIA_URLS} http(s) URLs, one per line.")
        row = await sandbox.handset_send(
            self._rt(request),
            request.app.state.sandbox_network,
            handset=handset,
            to=number,
            text=text,
            message_type="MMS" if media else "SMS",
            media_urls=media,
        )
        url = f"/conversations/{_path(handset)}/{_path(number)}"
        if row["status"] == "dropped":
            url += "?notice=dropped"
        elif row["account_id"] != self._account(request):
            url += "?notice=not_ours"
        return RedirectResponse(url, status_code=303)

    # --- numbers, profiles, opt-outs ---------------------------------------------------

    async def number_list(self, request: Request) -> Response:
        page = _page_number(request.query_params.get("page"))
        rows, total = await numbers.list_numbers(
            self._rt(request),
            self._account(request),
            page_number=page,
            page_size=TABLE_PAGE_SIZE,
        )
        return self._page(request, "numbers.html", nav="numbers", rows=rows, **_pages(page, total))

    async def profile_list(self, request: Request) -> Response:
        page = _page_number(request.query_params.get("page"))
        rows, total = await profiles.list_profiles(
            self._rt(request),
            self._account(request),
            name_eq=None,
            name_contains=None,
            page_number=page,
            page_size=TABLE_PAGE_SIZE,
        )
        return self._page(
            request, "profiles.html", nav="profiles", rows=rows, **_pages(page, total)
        )

    async def optout_list(self, request: Request) -> Response:
        rt, account_id = self._rt(request), self._account(request)
        page = _page_number(request.query_params.get("page"))
        rows, total = await optouts.list_opt_outs(
            rt, account_id, page_number=page, page_size=TABLE_PAGE_SIZE
        )
        profile_rows, _ = await profiles.list_profiles(
            rt, account_id, name_eq=None, name_contains=None, page_number=1, page_size=1000
        )
        names = {p["id"]: p["name"] for p in profile_rows}
        return self._page(
            request,
            "optouts.html",
            nav="optouts",
            rows=rows,
            profile_names=names,
            **_pages(page, total),
        )

    # --- routes ------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.message_list, methods=["GET"]),
            Route("/messages/{id}", self.message_detail, methods=["GET"]),
            Route(
                "/messages/{id}/webhooks/{delivery_id}/resend",
                self.resend,
                methods=["POST"],
            ),
            Route("/conversations", self.conversation_list, methods=["GET"]),
            Route("/conversations/open", self.open_conversation, methods=["GET"]),
            Route("/conversations/{handset}/{number}", self.conversation, methods=["GET"]),
            Route("/conversations/{handset}/{number}", self.compose, methods=["POST"]),
            Route("/numbers", self.number_list, methods=["GET"]),
            Route("/profiles", self.profile_list, methods=["GET"]),
            Route("/opt-outs", self.optout_list, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="console-static"),
        ]


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 100_000))
    except ValueError:
        return 1


def _pages(page: int, total: int) -> dict[str, Any]:
    last = max(1, -(-total // TABLE_PAGE_SIZE))
    return {
        "page": page,
        "total": total,
        "newer_url": f"?page={page - 1}" if page > 1 else None,
        "older_url": f"?page={page + 1}" if page < last else None,
    }


def routes(settings: Settings) -> list[BaseRoute]:
    """The console's routes, to mount at `/` after the API's."""
    return Console(settings).routes()
