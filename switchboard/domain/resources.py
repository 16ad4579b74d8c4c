"""Stored rows → the Telnyx resource shapes (dicts ready for JSON).

Pure functions shared by the API and webhooks, so a message looks the same in a response,
in `GET /messages/{id}` and in a `message.finalized` payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.domain import whatsapp
from switchboard.domain.clock import iso
from switchboard.domain.numbers import eligible_products
from switchboard.domain.text import redact_number

SANDBOX_CARRIER_NAME = "Switchboard Sandbox"


def _party(address: str, line_type: str, status: str | None = None) -> dict[str, Any]:
    party: dict[str, Any] = {
        "phone_number": address,
        "carrier": SANDBOX_CARRIER_NAME,
        "line_type": line_type,
    }
    if status is not None:
        party["status"] = status
    return party


def _cost(row: dict[str, Any]) -> dict[str, str] | None:
    if row.get("cost_amount") is None:
        return None
    return {"amount": row["cost_amount"], "currency": row["cost_currency"] or "USD"}


def outbound_message(
    rows: Sequence[dict[str, Any]], organization_id: str, *, as_group: bool = False
) -> dict[str, Any]:
    """One outbound message resource from its per-recipient rows (several for group MMS).

    The first row supplies the shared fields; each row adds its own `to[]` entry. A group
    is identified by its group id; a single recipient's message by its own id.
    """
    row = rows[0]
    final_times = [r["completed_at"] for r in rows if r["completed_at"] is not None]
    sent_times = [r["sent_at"] for r in rows if r["sent_at"] is not None]
    resource = {
        "record_type": "message",
        "direction": "outbound",
        "id": row["group_id"] if as_group and row.get("group_id") else row["id"],
        "type": row["type"],
        "messaging_profile_id": row["messaging_profile_id"],
        "organization_id": organization_id,
        "from": _party(row["from_address"], row["from_line_type"]),
        "to": [_party(r["to_address"], r["to_line_type"], r["status"]) for r in rows],
        "cc": row["cc"] or [],
        "text": row["text"],
        "subject": row["subject"],
        "media": row["media"] or [],
        "encoding": row["encoding"],
        "parts": row["parts"],
        "num_chars": row["num_chars"],
        "smart_encoding_applied": row["smart_encoding_applied"],
        "tags": row["tags"] or [],
        "errors": [e for r in rows for e in (r["errors"] or [])],
        "cost": _cost(row),
        "cost_breakdown": None,
        "received_at": iso(row["received_at"]),
        "sent_at": iso(min(sent_times)) if sent_times else None,
        "completed_at": iso(max(final_times)) if len(final_times) == len(rows) else None,
        "valid_until": iso(row["valid_until"]),
        "wait_seconds": float(row["wait_seconds"] or 0.0),
        "webhook_url": row["webhook_url"],
        "webhook_failover_url": row["webhook_failover_url"],
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
    }
    if row.get("body") is not None:  # WhatsApp: the content sent
        resource["body"] = whatsapp.outbound_body(row["body"])
    return resource


def inbound_message(row: dict[str, Any], organization_id: str) -> dict[str, Any]:
    """An inbound message resource (`MessagingInboundMessagePayload`)."""
    return {
        "record_type": "message",
        "direction": "inbound",
        "id": row["id"],
        "type": row["type"],
        "messaging_profile_id": row["messaging_profile_id"],
        "organization_id": organization_id,
        "from": _party(row["from_address"], row["from_line_type"], "received"),
        "to": [_party(row["to_address"], row["to_line_type"], row["status"])],
        "cc": row["cc"] or [],
        "text": row["text"],
        "subject": row["subject"],
        "autoresponse_type": row.get("autoresponse_type"),
        "media": [
            {
                "url": m.get("url"),
                "content_type": m.get("content_type"),
                "size": m.get("size"),
                "hash_sha256": m.get("sha256"),
            }
            for m in (row["media"] or [])
        ],
        "encoding": row["encoding"],
        "parts": row["parts"],
        "num_chars": row["num_chars"],
        "tags": row["tags"] or [],
        "errors": row["errors"] or [],
        "cost": _cost(row),
        "cost_breakdown": None,
        "received_at": iso(row["received_at"]),
        "sent_at": None,
        "completed_at": None,
        "valid_until": None,
        "webhook_url": row["webhook_url"],
        "webhook_failover_url": row["webhook_failover_url"],
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
    }


def message_resource(rows: Sequence[dict[str, Any]], organization_id: str) -> dict[str, Any]:
    if rows[0]["direction"] == "inbound":
        return inbound_message(rows[0], organization_id)
    return outbound_message(rows, organization_id)


def messaging_profile(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_type": "messaging_profile",
        "id": row["id"],
        "name": row["name"],
        "enabled": row["enabled"],
        "webhook_url": row["webhook_url"],
        "webhook_failover_url": row["webhook_failover_url"],
        "webhook_api_version": row["webhook_api_version"],
        "whitelisted_destinations": row["whitelisted_destinations"],
        "number_pool_settings": row["number_pool_settings"],
        "url_shortener_settings": row["url_shortener_settings"],
        "alpha_sender": row["alpha_sender"],
        "daily_spend_limit": row["daily_spend_limit"],
        "daily_spend_limit_enabled": row["daily_spend_limit_enabled"],
        "mms_fall_back_to_sms": row["mms_fall_back_to_sms"],
        "mms_transcoding": row["mms_transcoding"],
        "mobile_only": row["mobile_only"],
        "smart_encoding": row["smart_encoding"],
        "redaction_enabled": row["redaction_enabled"],
        "redaction_level": row["redaction_level"],
        "features": row["features"],
        "ai_assistant_id": row["ai_assistant_id"],
        "resource_group_id": row["resource_group_id"],
        "health_webhook_url": row["health_webhook_url"],
        "v1_secret": row["v1_secret"],
        "organization_id": row["account_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


# The number types as `filter[type]` spells them (the SDK also accepts `long-code` etc.).
_MESSAGING_TYPE = {"long_code": "longcode", "toll_free": "tollfree", "short_code": "shortcode"}


def _feature_set(domestic: bool = True) -> dict[str, bool]:
    return {
        "domestic_two_way": domestic,
        "international_inbound": True,
        "international_outbound": True,
    }


def number_messaging_settings(
    row: dict[str, Any], health: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`PhoneNumberWithMessagingSettings`; `health` (all four keys) only when given."""
    out = {
        "record_type": "messaging_phone_number",
        "id": row["id"],
        "phone_number": row["phone_number"],
        "country_code": row["country_code"],
        "type": _MESSAGING_TYPE.get(row["number_kind"], "longcode"),
        "messaging_profile_id": row["messaging_profile_id"],
        "messaging_product": row["messaging_product"],
        "eligible_messaging_products": eligible_products(row["number_kind"]),
        "traffic_type": row["messaging_product"],
        "organization_id": row["account_id"],
        "tags": row["tags"] or [],
        "features": {"sms": _feature_set(), "mms": _feature_set()},
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if health is not None:
        out["health"] = health
    return out


def mobile_number_messaging_settings(row: dict[str, Any]) -> dict[str, Any]:
    """`MobilePhoneNumberWithMessagingSettings`: type `longcode` only, SMS features only."""
    return {
        "record_type": "messaging_phone_number",
        "id": row["id"],
        "phone_number": row["phone_number"],
        "country_code": row["country_code"],
        "type": "longcode",
        "messaging_profile_id": row["messaging_profile_id"],
        "messaging_product": row["messaging_product"],
        "traffic_type": row["messaging_product"],
        "organization_id": row["account_id"],
        "tags": row["tags"] or [],
        "features": {"sms": _feature_set()},
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def profile_short_code(row: dict[str, Any]) -> dict[str, Any]:
    """`ShortCode`, from a `short_codes` row (see store/profile_senders.py)."""
    return {
        "record_type": "short_code",
        "id": row["id"],
        "short_code": row.get("short_code"),
        "country_code": row.get("country_code"),
        "messaging_profile_id": row.get("messaging_profile_id"),
        "tags": row.get("tags") or [],
        "created_at": iso(row.get("created_at")),
        "updated_at": iso(row.get("updated_at")),
    }


def profile_alphanumeric_sender_id(row: dict[str, Any]) -> dict[str, Any]:
    """`AlphanumericSenderID`, from an `alphanumeric_sender_ids` row."""
    return {
        "record_type": "alphanumeric_sender_id",
        "id": row["id"],
        "alphanumeric_sender_id": row.get("alphanumeric_sender_id"),
        "messaging_profile_id": row.get("messaging_profile_id"),
        "organization_id": row.get("account_id"),
        "us_long_code_fallback": row.get("us_long_code_fallback"),
    }


def phone_number_detailed(row: dict[str, Any]) -> dict[str, Any]:
    """`NumbersPhoneNumberDetailed` (the `/phone_numbers` listing)."""
    return {
        "record_type": "phone_number",
        "id": row["id"],
        "phone_number": row["phone_number"],
        "country_iso_alpha2": row["country_code"],
        "phone_number_type": row["phone_number_type"],
        "status": row["status"],
        "tags": row["tags"] or [],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "purchased_at": iso(row["created_at"]),
        "activated_at": iso(row["created_at"]),
        "deletion_lock_enabled": False,
        "external_pin": None,
        "messaging_profile_id": row["messaging_profile_id"],
        "messaging_profile_name": row.get("messaging_profile_name"),
        "source_type": "number_order",
        "connection_id": None,
        "billing_group_id": None,
        "customer_reference": None,
    }


def number_order(row: dict[str, Any]) -> dict[str, Any]:
    """`NumberOrderWithPhoneNumbers`."""
    return {
        "record_type": "number_order",
        "id": row["id"],
        "status": row["status"],
        "messaging_profile_id": row["messaging_profile_id"],
        "customer_reference": row["customer_reference"],
        "phone_numbers": row["phone_numbers"],
        "phone_numbers_count": len(row["phone_numbers"]),
        "requirements_met": True,
        "sub_number_orders_ids": [],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def messaging_optout(row: dict[str, Any], *, redact: bool = False) -> dict[str, Any]:
    """`MessagingOptoutListResponse`; `to` masked when redaction is asked for."""
    return {
        "from": row["from_address"],
        "to": redact_number(row["to_address"]) if redact else row["to_address"],
        "keyword": row["keyword"],
        "messaging_profile_id": row["messaging_profile_id"],
        "created_at": iso(row["created_at"]),
    }


def autoresp_config(row: dict[str, Any]) -> dict[str, Any]:
    """`AutoRespConfig` (every field but `resp_text` is required by the SDK)."""
    return {
        "id": row["id"],
        "op": row["op"],
        "keywords": list(row["keywords"] or []),
        "country_code": row["country_code"],
        "resp_text": row["resp_text"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def sandbox_message(row: dict[str, Any], *, show_message_id: bool = True) -> dict[str, Any]:
    """One message that crossed the simulated network (Switchboard's own shape)."""
    inbound = row["direction"] == "inbound"
    return {
        "record_type": "sandbox_message",
        "id": row["id"],
        "direction": row["direction"],
        "handset": row["handset"],
        "number": row["number"],
        "from": row["handset"] if inbound else row["number"],
        "to": row["number"] if inbound else row["handset"],
        "type": row["type"],
        "text": row["text"],
        "media_urls": list(row["media"] or []),
        "message_id": row["message_id"] if show_message_id else None,
        "status": row["status"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
