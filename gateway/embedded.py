"""The embedded runtime: one process hosting the gateway and every service, each service with
its own SQLite file under the var directory, events through the durable in-process bus."""

from __future__ import annotations

import importlib
import json
import secrets
import sys
from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr

from gateway.app import create_app as create_gateway
from gateway.routes import SERVICES
from gateway.settings import GatewaySettings
from kit.bus.local import LocalBus
from kit.settings import RuntimeSettings


def development_admin(var: Path) -> tuple[str, str]:
    """An admin client for a developer's machine, kept in <var>/dev-admin.json (mode 0600)."""
    path = var / "dev-admin.json"
    if path.exists():
        saved = json.loads(path.read_text())
        return saved["client_id"], saved["client_secret"]
    client_id, secret = "dev-admin", secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"client_id": client_id, "client_secret": secret}))
    return client_id, secret


def create_app(runtime: RuntimeSettings | None = None, settings: GatewaySettings | None = None) -> FastAPI:
    runtime = runtime or RuntimeSettings(bus="memory")
    settings = settings or GatewaySettings()
    var = Path(runtime.var_dir).resolve()
    var.mkdir(parents=True, exist_ok=True)
    if runtime.internal_token_key is None:
        # One process: the gateway and the services share this key in memory only.
        runtime = runtime.model_copy(update={"internal_token_key": SecretStr(secrets.token_urlsafe(32))})
    if not settings.admin_client_id:
        client_id, secret = development_admin(var)
        settings = settings.model_copy(update={"admin_client_id": client_id, "admin_client_secret": SecretStr(secret)})
        print(
            f"\n  Development admin client (stored in {var / 'dev-admin.json'}):\n"
            f"    client_id     {client_id}\n    client_secret {secret}\n"
            "  Swagger UI: Authorize with these, then try any endpoint.\n",
            file=sys.stderr,
            flush=True,
        )
    bus = LocalBus(str(var / "bus.db"))
    hosted = {
        name: importlib.import_module(f"services.{name}.app").create_app(runtime=runtime, bus=bus)
        for name in SERVICES
    }
    return create_gateway(settings, runtime, hosted=hosted, bus=bus)
