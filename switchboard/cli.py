"""The `switchboard` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from switchboard.config import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        getattr(args, "config", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        database_url=getattr(args, "db", None),
    )


def _banner(info: object) -> None:
    from switchboard.app import ReadyInfo

    assert isinstance(info, ReadyInfo)
    s, startup = info.settings, info.startup
    lines = [
        f"Switchboard {s.mode} ready",
        f'  API:          {s.api_base_url}   (Telnyx SDK: base_url="{s.api_base_url}")',
    ]
    if s.console_enabled:
        lines.append(f"  Console:      {s.base_url}/   (messages, conversations, webhooks)")
    if startup.new_api_key:
        lines.append(f"  API key:      {startup.new_api_key}   (shown once; keep it)")
    elif startup.configured_api_key:
        lines.append("  API key:      from SWITCHBOARD_API_KEY")
    else:
        lines.append(
            "  API key:      created at first start; `switchboard keys create` makes another"
        )
    lines.append(f"  Webhook key:  {startup.webhook_public_key}   (Telnyx SDK: public_key=…)")
    if info.sandbox_numbers:
        lines.append(f"  Numbers:      {', '.join(info.sandbox_numbers)}")
    lines.append(f"  Database:     {s.database_url}")
    print("\n".join(lines), flush=True)


def _run_http(settings: Settings, *, with_workers: bool) -> None:
    import uvicorn

    from switchboard.app import create_app

    app = create_app(settings, run_workers=with_workers, on_ready=_banner)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        # Longer than clients keep idle connections (httpx, the SDKs: 5 s), so the client is
        # the one that closes them: a request sent as the server closed an idle connection
        # would fail, and a client retrying it might send a message twice.
        timeout_keep_alive=65,
    )
    uvicorn.Server(config).run()


def cmd_serve(args: argparse.Namespace) -> int:
    _run_http(_settings(args), with_workers=True)
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    """The HTTP API alone; `switchboard worker` processes do the sending."""
    _run_http(_settings(args), with_workers=False)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Workers alone (dispatcher, carriers, webhooks, scheduler), until SIGTERM or Ctrl-C."""
    import signal

    import uvloop

    from switchboard.process import running
    from switchboard.workers.supervisor import default_worker_id

    settings = _settings(args)
    worker_id = args.worker_id or default_worker_id(f"worker:{os.getpid()}")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with running(settings, with_workers=True, worker_id=worker_id):
            print(f"Switchboard worker {worker_id} ready ({settings.database_url})", flush=True)
            await stop.wait()

    uvloop.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from switchboard.store import migrate
    from switchboard.store.database import create_engine

    settings = _settings(args)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"Database at {settings.database_url} is up to date.")
    return 0


def _with_runtime(args: argparse.Namespace, action: object) -> object:
    from switchboard.services import accounts
    from switchboard.services.runtime import Runtime
    from switchboard.store import migrate
    from switchboard.store.database import create_engine

    settings = _settings(args)

    async def run() -> object:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            rt = Runtime(settings=settings, engine=engine)
            await accounts.ensure_default_account(rt)
            assert callable(action)
            return await action(rt)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_keys(args: argparse.Namespace) -> int:
    from switchboard.services import accounts

    if args.keys_command == "create":
        key = _with_runtime(args, lambda rt: accounts.create_api_key(rt, args.label))
        print(key)
    elif args.keys_command == "list":
        rows = _with_runtime(args, accounts.list_api_keys)
        assert isinstance(rows, list)
        for row in rows:
            state = "revoked" if row["revoked_at"] else "active"
            print(f"{row['id']}  {row['prefix']}…  {state:8} {row['label']}")
    elif args.keys_command == "revoke":
        count = _with_runtime(args, lambda rt: accounts.revoke_api_key(rt, args.key_id))
        if not count:
            print(f"No active key matches {args.key_id!r}.", file=sys.stderr)
            return 1
        print(f"Revoked {count} key(s).")
    elif args.keys_command == "show":
        info = _with_runtime(args, accounts.ensure_default_account)
        assert isinstance(info, accounts.StartupInfo)
        print(info.webhook_public_key)
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from switchboard.services import webhooks
    from switchboard.webhooks.schedule import parse_duration

    grace = parse_duration(args.grace) if args.grace is not None else None
    try:
        result = _with_runtime(
            args, lambda rt: webhooks.rotate_signing_key(rt, args.account, grace)
        )
    except webhooks.KeyRotationError as exc:
        print(f"Cannot rotate: {exc}.", file=sys.stderr)
        return 1
    assert isinstance(result, webhooks.Rotation)
    print(f"New webhook public key: {result.public_key}")
    if result.previous_public_key and result.previous_until:
        until = result.previous_until.strftime("%Y-%m-%dT%H:%M:%SZ")
        print(
            f"Previous key {result.previous_public_key} keeps signing `webhook-signature` "
            f"until {until}."
        )
    elif result.previous_public_key:
        print(f"Previous key {result.previous_public_key} stopped signing now.")
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from switchboard.services import accounts

    result = _with_runtime(args, lambda rt: accounts.create_account(rt, args.name))
    assert isinstance(result, tuple)
    account_id, key = result
    print(f"account {account_id}\napi key {key}")
    return 0


def cmd_carriers(args: argparse.Namespace) -> int:
    from switchboard.domain.clock import utcnow
    from switchboard.services import carriers

    rows = _with_runtime(args, carriers.all_status)
    assert isinstance(rows, list)
    if not rows:
        print("No carrier status recorded yet: is a `serve` or `worker` process running?")
        return 1
    header = (
        f"{'CARRIER':16} {'WORKER':24} {'BINDS':>9} {'WINDOW':>9} {'SUBMITTED':>9} "
        f"{'ACKED':>7} {'FAILED':>6} {'THROTTLED':>9} {'RECEIPTS':>8} {'MO':>5} {'AGE':>6}"
    )
    print(header)
    now = utcnow()
    for row in rows:
        status = row["status"]
        binds = status.get("binds") or []
        counters = status.get("counters") or {}
        bound = sum(1 for b in binds if b.get("state") == "bound")
        used = sum(int(b.get("window_used", 0)) for b in binds)
        size = sum(int(b.get("window_size", 0)) for b in binds)
        age = (now - row["updated_at"]).total_seconds()
        print(
            f"{row['carrier']:16} {row['worker_id'][:24]:24} "
            f"{(f'{bound}/{len(binds)}' if binds else 'ready'):>9} "
            f"{(f'{used}/{size}' if binds else '-'):>9} "
            f"{counters.get('submitted', '-'):>9} {counters.get('acked', '-'):>7} "
            f"{counters.get('failed', '-'):>6} {counters.get('throttled', '-'):>9} "
            f"{counters.get('receipts', '-'):>8} {counters.get('mo', '-'):>5} {age:>5.0f}s"
        )
        for bind in binds:
            error = f"  last error: {bind['last_error']}" if bind.get("last_error") else ""
            print(
                f"  {bind.get('label', '?'):30} {bind.get('state', '?'):12} "
                f"window {bind.get('window_used', 0)}/{bind.get('window_size', 0)}{error}"
            )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Self-hosted messaging, Telnyx API v2 compatible."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True)

    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--db", help="database URL (env SWITCHBOARD_DATABASE_URL)")
    shared.add_argument("--config", help="TOML configuration file")

    serve = sub.add_parser("serve", help="run API, workers and the sandbox network")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--db", help="database URL (env SWITCHBOARD_DATABASE_URL)")
    serve.add_argument("--config", help="TOML configuration file")
    serve.set_defaults(func=cmd_serve)

    api = sub.add_parser("api", help="run the HTTP API only (workers run apart)")
    api.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, help="port to listen on (default 8080)")
    api.add_argument("--db", help="database URL (env SWITCHBOARD_DATABASE_URL)")
    api.add_argument("--config", help="TOML configuration file")
    api.set_defaults(func=cmd_api)

    worker = sub.add_parser("worker", parents=[shared], help="run the workers only")
    worker.add_argument(
        "--worker-id",
        help="stable id of this worker (default HOST:worker:PID); with a stable id a "
        "restarted worker takes back its own unfinished messages at once",
    )
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", parents=[shared], help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="API keys and the webhook signing key")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", parents=[shared], help="create an API key, print it")
    create.add_argument("--label", default="created with `switchboard keys create`")
    keys_sub.add_parser("list", parents=[shared], help="list API keys")
    revoke = keys_sub.add_parser("revoke", parents=[shared], help="revoke a key by id or prefix")
    revoke.add_argument("key_id")
    keys_sub.add_parser("show", parents=[shared], help="print the webhook public key (base64)")
    rotate = keys_sub.add_parser(
        "rotate",
        parents=[shared],
        help="new webhook signing key; the previous one keeps signing during a grace period",
    )
    rotate.add_argument(
        "--grace", help="how long the previous key keeps signing, e.g. 24h (default from config)"
    )
    rotate.add_argument("--account", help="account id (default: the first account)")
    rotate.set_defaults(func=cmd_keys_rotate)
    keys.set_defaults(func=cmd_keys)

    carriers_cmd = sub.add_parser("carriers", help="carrier connections")
    carriers_sub = carriers_cmd.add_subparsers(dest="carriers_command", required=True)
    carriers_sub.add_parser(
        "status", parents=[shared], help="each bind's state, window use and counters"
    )
    carriers_cmd.set_defaults(func=cmd_carriers)

    accounts_cmd = sub.add_parser("accounts", help="accounts (one per tenant)")
    accounts_sub = accounts_cmd.add_subparsers(dest="accounts_command", required=True)
    create_account = accounts_sub.add_parser(
        "create", parents=[shared], help="create an account and its first key"
    )
    create_account.add_argument("name")
    accounts_cmd.set_defaults(func=cmd_accounts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
