"""Table definitions. Migrations in `migrations/versions` create and evolve these."""

from __future__ import annotations

import sqlalchemy as sa

from switchboard.store.types import JSONType, UTCDateTime

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
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_messages_account_received", "account_id", "received_at"),
    sa.Index("ix_messages_group", "group_id"),
    sa.Index("ix_messages_carrier_ref", "carrier", "carrier_message_id"),
    # The dispatcher's claim: queued rows due now, oldest first. Partial, so it stays small.
    sa.Index(
        "ix_messages_queue",
        "next_attempt_at",
        sqlite_where=sa.text("status = 'queued'"),
        postgresql_where=sa.text("status = 'queued'"),
    ),
    sa.Index(
        "ix_messages_inflight",
        "status",
        "claimed_at",
        sqlite_where=sa.text("status IN ('sending', 'sent', 'scheduled')"),
        postgresql_where=sa.text("status IN ('sending', 'sent', 'scheduled')"),
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
