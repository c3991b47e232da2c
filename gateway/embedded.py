"""The embedded runtime: one process hosting the gateway and every service, each service with
its own SQLite file under the var directory, events through the durable in-process bus."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI

from gateway.app import create_app as create_gateway
from gateway.routes import SERVICES
from gateway.settings import GatewaySettings
from kit.bus.local import LocalBus
from kit.settings import RuntimeSettings


def create_app(runtime: RuntimeSettings | None = None) -> FastAPI:
    runtime = runtime or RuntimeSettings(bus="memory")
    var = Path(runtime.var_dir).resolve()
    var.mkdir(parents=True, exist_ok=True)
    bus = LocalBus(str(var / "bus.db"))
    hosted = {
        name: importlib.import_module(f"services.{name}.app").create_app(runtime=runtime, bus=bus)
        for name in SERVICES
    }
    return create_gateway(GatewaySettings(), hosted=hosted, bus=bus)
