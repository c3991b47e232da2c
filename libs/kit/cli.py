"""Command line of the platform: ``python -m kit.cli migrate|serve|worker <target>``.

Targets: a service name (``candidates``, ``vacancies``, ``matching``, ``notifications``, ``insights``),
``gateway`` (distributed gateway), ``embedded`` (gateway hosting every service in one process),
or ``module:attribute`` naming a ``ServiceSpec`` or a function returning one.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

import uvicorn

from kit.app import ServiceSpec, create_service_app, database_url, make_bus
from kit.db import sqlite_url
from kit.logging import configure_logging
from kit.migrations import upgrade
from kit.settings import RuntimeSettings

SERVICES = ("candidates", "vacancies", "matching", "notifications", "insights")


def load_spec(target: str) -> ServiceSpec:
    module_name, _, attr = target.partition(":")
    if not attr:
        module_name, attr = f"services.{target}.app", "SPEC"
    try:
        spec = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"unknown service {target!r}: {exc}") from None
    if callable(spec) and not isinstance(spec, ServiceSpec):
        spec = spec()  # a factory, e.g. one that reads its topic from the environment
    if not isinstance(spec, ServiceSpec):
        raise SystemExit(f"{target!r} is not a ServiceSpec")
    return spec


def migrate(targets: list[str]) -> None:
    runtime = RuntimeSettings()
    for target in (*SERVICES, "gateway") if targets == ["all"] else targets:
        started = time.perf_counter()
        if target == "gateway":
            from gateway.settings import GatewaySettings

            migrations = Path(importlib.import_module("gateway").__file__).parent / "migrations"
            upgrade(migrations, GatewaySettings().database_url or sqlite_url(runtime.var_dir, "gateway"))
        else:
            spec = load_spec(target)
            upgrade(spec.migrations_dir, database_url(spec, spec.settings_class(), runtime))
        print(f"migrated {target} in {time.perf_counter() - started:.2f}s", file=sys.stderr)


def serve(target: str, host: str, port: int) -> None:
    runtime = RuntimeSettings()
    if target == "embedded":
        from gateway.embedded import create_app

        app = create_app(runtime)
    elif target == "gateway":
        from gateway.app import create_app as create_gateway

        app = create_gateway(runtime=runtime)
    else:
        app = create_service_app(load_spec(target), runtime=runtime)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False)


async def work(targets: list[str]) -> None:
    """Run services' relays and consumers without HTTP until SIGTERM or SIGINT. With the
    in-process bus the services share one bus, as in the embedded runtime."""
    runtime = RuntimeSettings()
    shared = make_bus(runtime, "worker") if runtime.bus == "memory" else None
    apps = [create_service_app(load_spec(t), runtime=runtime, bus=shared) for t in targets]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        if shared is not None:
            await shared.start()
            stack.push_async_callback(shared.stop)
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        print("worker ready", file=sys.stderr, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kit.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p_migrate = commands.add_parser("migrate", help="apply database migrations")
    p_migrate.add_argument("targets", nargs="+", help="service names, or 'all'")
    p_serve = commands.add_parser("serve", help="serve HTTP (with relay and consumers)")
    p_serve.add_argument("target")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_worker = commands.add_parser("worker", help="run the outbox relay and consumers only")
    p_worker.add_argument("targets", nargs="+")
    args = parser.parse_args(argv)

    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, runtime.log_json)
    if args.command == "migrate":
        migrate(args.targets)
    elif args.command == "serve":
        serve(args.target, args.host, args.port)
    else:
        asyncio.run(work(args.targets))


if __name__ == "__main__":
    main()
