"""Table definitions. Migrations in `migrations/versions` create and evolve these."""

from __future__ import annotations

import re

import sqlalchemy as sa

from switchboard.store.types import JSONType, UTCDateTime


def partial_index(name: str, *columns: str, where: str) -> sa.Index:
    """An index of the rows matching `where` only, on both backends.

    A query is served by it only if its own WHERE holds the index's term as written, with
    the value in the SQL text (`status = 'queued'`): compare with `inline("queued")`.
    """
    return sa.Index(name, *columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


_INLINE_SAFE = re.compile(r"[a-z_]+")


def can_inline(value: object) -> bool:
    """Whether `inline` takes `value`: a plain lowercase word."""
    return isinstance(value, str) and _INLINE_SAFE.fullmatch(value) is not None


def inline(value: str) -> sa.ColumnElement[str]:
    """`value` written into the SQL as a literal, where SQLAlchemy would bind a parameter.

    SQLite uses a partial index for `status = ?` only by looking at the value bound, and a
    statement whose plan depends on a bound value is prepared again every time it is bound:
    the dispatcher's claim cost three times SQLite's own work that way. PostgreSQL's generic
    plans of prepared statements cannot use such an index at all. So the workers' claims and
    polls name their statuses inline. Only plain lowercase words are accepted: these are
    the code's own constants, never input.
    """
    if not can_inline(value):
        raise ValueError(f"not a plain word: {value!r}")
    return sa.literal_column(f"'{value}'", sa.String)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("seed_b64", sa.String(64), nullable=False),
    sa.Column("public_key_b64", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("retired_at", UTCDateTime),
)

messaging_profiles = sa.Table(
    "messaging_profiles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("webhook_url", sa.Text),
    sa.Column("webhook_failover_url", sa.Text),
    sa.Column("webhook_api_version", sa.String(16), nullable=False),
    sa.Column("whitelisted_destinations", JSONType, nullable=False),
    sa.Column("number_pool_settings", JSONType),
    sa.Column("url_shortener_settings", JSONType),
    sa.Column("alpha_sender", sa.String(11)),
    sa.Column("daily_spend_limit", sa.String(32)),
    sa.Column("daily_spend_limit_enabled", sa.Boolean, nullable=False),
    sa.Column("mms_fall_back_to_sms", sa.Boolean, nullable=False),
    sa.Column("mms_transcoding", sa.Boolean, nullable=False),
    sa.Column("mobile_only", sa.Boolean, nullable=False),
    sa.Column("smart_encoding", sa.Boolean, nullable=False),
    sa.Column("redaction_enabled", sa.Boolean, nullable=False),
    sa.Column("redaction_level", sa.Integer, nullable=False),
    sa.Column("features", JSONType),
    sa.Column("ai_assistant_id", sa.String(64)),
    sa.Column("resource_group_id", sa.String(64)),
    sa.Column("health_webhook_url", sa.Text),
    sa.Column("v1_secret", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

phone_numbers = sa.Table(
    "phone_numbers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("phone_number", sa.String(32), nullable=False, unique=True),
    sa.Column("country_code", sa.String(2), nullable=False),
    sa.Column("number_kind", sa.String(16), nullable=False),  # long_code | toll_free
    sa.Column("phone_number_type", sa.String(16), nullable=False),  # local | toll_free | mobile
    sa.Column(
        "messaging_profile_id",
        sa.String(36),
        sa.ForeignKey("messaging_profiles.id"),
        index=True,
    ),
    sa.Column("messaging_product", sa.String(32), nullable=False),
    sa.Column("tags", JSONType, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("order_id", sa.String(36)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

number_orders = sa.Table(
    "number_orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("messaging_profile_id", sa.String(36)),
    sa.Column("customer_reference", sa.String(255)),
    sa.Column("phone_numbers", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# One row per (message, recipient): the row is also the dispatcher's queue entry.
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("group_id", sa.String(36)),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("messaging_profile_id", sa.String(36)),
    sa.Column("from_address", sa.String(64), nullable=False),
    sa.Column("sender_type", sa.String(16), nullable=False),
    sa.Column("from_line_type", sa.String(32), nullable=False, server_default=""),
    sa.Column("to_address", sa.String(64), nullable=False),
    sa.Column("to_line_type", sa.String(32), nullable=False, server_default=""),
    sa.Column("to_country", sa.String(2), nullable=False, server_default=""),
    sa.Column("cc", JSONType, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sent_text", sa.Text, nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("media", JSONType, nullable=False),
    sa.Column("encoding", sa.String(16), nullable=False),
    sa.Column("parts", sa.Integer, nullable=False),
    sa.Column("num_chars", sa.Integer, nullable=False),
    sa.Column("smart_encoding_applied", sa.Boolean, nullable=False),
    sa.Column("tags", JSONType, nullable=False),
    sa.Column("errors", JSONType, nullable=False),
    sa.Column("cost_amount", sa.String(32)),
    sa.Column("cost_currency", sa.String(3)),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("send_at", UTCDateTime),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("valid_until", UTCDateTime),
    sa.Column("wait_seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("carrier", sa.String(64)),
    sa.Column("carrier_message_id", sa.String(255)),
    sa.Column("webhook_url", sa.Text),
    sa.Column("webhook_failover_url", sa.Text),
    sa.Column("use_profile_webhooks", sa.Boolean, nullable=False),
    sa.Column("autoresponse_type", sa.String(16)),  # inbound: STOP | START | HELP keyword
    sa.Column("body", JSONType),  # WhatsApp: the `whatsapp_message` that was sent
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_messages_account_received", "account_id", "received_at"),
    # Most rows have no group, and none a carrier reference when accepted: not indexed.
    partial_index("ix_messages_group", "group_id", where="group_id IS NOT NULL"),
    partial_index(
        "ix_messages_carrier_ref",
        "carrier",
        "carrier_message_id",
        where="carrier_message_id IS NOT NULL",
    ),
    # The dispatcher's claim: queued rows due now, oldest first. Partial, so it stays small.
    partial_index("ix_messages_queue", "next_attempt_at", where="status = 'queued'"),
    # One partial index per status the workers poll: SQLite uses a partial index only when
    # the query's WHERE contains the index's own term (`status = 'sent'`), so one index over
    # `status IN (...)` would not serve them.
    *(
        partial_index(f"ix_messages_{status}_{column}", column, where=f"status = '{status}'")
        for status, column in (
            ("sending", "claimed_at"),
            ("sent", "sent_at"),
            ("scheduled", "send_at"),
            ("queued", "valid_until"),
        )
    ),
)

message_events = sa.Table(
    "message_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("detail", JSONType),
)

# --- Webhooks -------------------------------------------------------------------------
# One row per event (its `data` object serialised once, so every attempt sends the same
# bytes and `data.id` never changes), one delivery per event and its targets (the sender's
# queue entry, claimed like a message), and one row per attempt.

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("message_id", sa.String(36), index=True),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column(
        "event_id", sa.String(36), sa.ForeignKey("webhook_events.id"), nullable=False, index=True
    ),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("message_id", sa.String(36)),
    sa.Column("targets", JSONType, nullable=False),  # URLs in the order each round tries them
    sa.Column("target_host", sa.String(255), nullable=False),  # host of targets[0]
    sa.Column("status", sa.String(16), nullable=False),  # pending|delivering|delivered|failed
    sa.Column("rounds", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_webhook_deliveries_account_created", "account_id", "created_at"),
    sa.Index("ix_webhook_deliveries_message", "message_id", "created_at"),
    # The sender's claim: pending rows due now. Partial, so it stays small.
    partial_index("ix_webhook_deliveries_queue", "next_attempt_at", where="status = 'pending'"),
    partial_index("ix_webhook_deliveries_inflight", "claimed_at", where="status = 'delivering'"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "delivery_id",
        sa.String(36),
        sa.ForeignKey("webhook_deliveries.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("number", sa.Integer, nullable=False),  # meta.attempt
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # delivered | failed
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("elapsed_ms", sa.Integer, nullable=False),
    sa.Column("request_headers", JSONType, nullable=False),
    sa.Column("request_body", sa.Text, nullable=False),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_headers", JSONType, nullable=False),
    sa.Column("response_body", sa.Text, nullable=False),
    sa.Column("body_truncated", sa.Boolean, nullable=False),
    sa.Column("error", sa.String(32)),
    sa.Column("error_detail", sa.Text),
    sa.Column("error_codes", JSONType, nullable=False),
)

# --- Receiving: opt-outs, auto-response configs, unrouted inbound, sandbox traffic, links --
# (migration 0005; the inbound message itself is a `messages` row with direction inbound)

# One block rule per (messaging profile, handset): created by an opt-out keyword, removed
# by an opt-in keyword. `from_address` is our number that received the keyword.
opt_outs = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("messaging_profile_id", sa.String(36), nullable=False),
    sa.Column("from_address", sa.String(64), nullable=False),
    sa.Column("to_address", sa.String(64), nullable=False),
    sa.Column("keyword", sa.String(64)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint(
        "messaging_profile_id", "to_address", name="uq_opt_outs_profile_destination"
    ),
    sa.Index("ix_opt_outs_account_created", "account_id", "created_at"),
)

autoresp_configs = sa.Table(
    "autoresp_configs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column(
        "messaging_profile_id",
        sa.String(36),
        sa.ForeignKey("messaging_profiles.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("op", sa.String(8), nullable=False),  # start | stop | info
    sa.Column("keywords", JSONType, nullable=False),
    sa.Column("country_code", sa.String(8), nullable=False),
    sa.Column("resp_text", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Inbound messages to numbers no account owns: kept for the operator, never delivered.
unrouted_messages = sa.Table(
    "unrouted_messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("carrier", sa.String(64), nullable=False),
    sa.Column("carrier_message_id", sa.String(255)),
    sa.Column("from_address", sa.String(64), nullable=False),
    sa.Column("to_address", sa.String(64), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("media", JSONType, nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index("ix_unrouted_messages_carrier_ref", "carrier", "carrier_message_id"),
)

# Everything that crossed the simulated network (sandbox mode): what handsets received and
# what they sent. `direction` is from the platform's side: outbound = to the handset.
sandbox_messages = sa.Table(
    "sandbox_messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("handset", sa.String(64), nullable=False),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("media", JSONType, nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("carrier_message_id", sa.String(255)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_sandbox_messages_account_created", "account_id", "created_at"),
    sa.Index("ix_sandbox_messages_carrier_ref", "carrier_message_id"),
)

# Short links of the URL shortener (`/l/{code}`) and their clicks.
short_links = sa.Table(
    "short_links",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False, index=True),
    sa.Column("messaging_profile_id", sa.String(36)),
    sa.Column("to_address", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("send_webhooks", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

link_clicks = sa.Table(
    "link_clicks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("code", sa.String(32), sa.ForeignKey("short_links.code"), nullable=False, index=True),
    sa.Column("clicked_at", UTCDateTime, nullable=False),
    sa.Column("user_agent", sa.Text),
)

# --- Numbers and profiles: bulk updates, metrics ------------------------------------------
# A bulk update order is claimed by a worker like a message is; its numbers are items that
# each end `success` or `failed` on their own.

bulk_update_orders = sa.Table(
    "bulk_update_orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("messaging_profile_id", sa.String(36)),  # NULL: unassign the numbers
    sa.Column("assign_only", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | processing | done
    sa.Column("number_count", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_bulk_update_orders_account_created", "account_id", "created_at"),
    # The runner's claim looks at unfinished orders only.
    partial_index("ix_bulk_update_orders_unfinished", "created_at", where="status != 'done'"),
)

bulk_update_items = sa.Table(
    "bulk_update_items",
    metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("bulk_update_orders.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),  # index in the submitted list
    sa.Column("phone_number", sa.Text, nullable=False),  # as submitted, even if malformed
    sa.Column("status", sa.String(16), nullable=False),  # pending | success | failed
    sa.Column("error_code", sa.String(8)),
    sa.Column("error_detail", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Metrics, spend limits and number health read messages by profile or by number over a time
# window; these indexes keep those reads proportional to the window, not to the table.
sa.Index("ix_messages_profile_received", messages.c.messaging_profile_id, messages.c.received_at)
sa.Index("ix_messages_from_received", messages.c.from_address, messages.c.received_at)
sa.Index("ix_messages_to_received", messages.c.to_address, messages.c.received_at)

# --- Sending ----------------------------------------------------------------------------
# Idempotency-Key records: one per (account, key, method, path). `in_flight` while the first
# request runs; `done` with the exact response once it succeeded (written in the same
# transaction as the messages it accepted), replayed until `expires_at`.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),  # sha256 of query and body
    sa.Column("state", sa.String(16), nullable=False),  # in_flight | done
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
    sa.UniqueConstraint("account_id", "key", "method", "path", name="uq_idempotency_keys_scope"),
)

# Short codes of an account (created through `/v2/sandbox/short_codes` in the sandbox).
short_codes = sa.Table(
    "short_codes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("short_code", sa.String(16), nullable=False),
    sa.Column("country_code", sa.String(2), nullable=False),
    sa.Column(
        "messaging_profile_id",
        sa.String(36),
        sa.ForeignKey("messaging_profiles.id", ondelete="SET NULL"),
        index=True,
    ),
    sa.Column("tags", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("short_code", "country_code", name="uq_short_codes_code_country"),
)

# Alphanumeric sender ids: registered per messaging profile.
alphanumeric_sender_ids = sa.Table(
    "alphanumeric_sender_ids",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("alphanumeric_sender_id", sa.String(11), nullable=False),
    sa.Column(
        "messaging_profile_id",
        sa.String(36),
        sa.ForeignKey("messaging_profiles.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("us_long_code_fallback", sa.String(32)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint(
        "messaging_profile_id", "alphanumeric_sender_id", name="uq_alphanumeric_sender_ids_profile"
    ),
)

# Throughput: when each sender address may next hand a part to the carrier. Accepting a
# message reserves its parts' time here, which sets the message's `next_attempt_at`.
sender_throughput = sa.Table(
    "sender_throughput",
    metadata,
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("next_free_at", UTCDateTime, nullable=False),
)

# What each worker process last saw of its carriers (for `switchboard carriers status`).
carrier_status = sa.Table(
    "carrier_status",
    metadata,
    sa.Column("worker_id", sa.String(128), primary_key=True),
    sa.Column("carrier", sa.String(64), primary_key=True),
    sa.Column("status", JSONType, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
