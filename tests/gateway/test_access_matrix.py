"""Every public operation × every kind of caller, generated from the merged OpenAPI document of
the embedded runtime, so an endpoint added later is covered without touching this file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from gateway.embedded import create_app
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer, load_or_create_key
from kit.auth import SCOPES, Principal
from kit.cli import migrate
from kit.settings import RuntimeSettings
from tests.gateway.harness import ADMIN_ID, ADMIN_SECRET, INTERNAL_KEY

PUBLIC = {("post", "/api/v1/auth/token")}


def operations(spec: dict) -> list[tuple[str, str, list[str] | None]]:
    """(method, path, required scopes or None when the operation declares no security)."""
    found = []
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            security = op.get("security")
            scopes = None if security is None else sorted({s for req in security for s in req.get("oauth2", [])})
            found.append((method, path, scopes))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


@pytest.fixture
async def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("JOBLINK_VAR", str(tmp_path))
    await asyncio.to_thread(migrate, ["all"])
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    settings = GatewaySettings(admin_client_id=ADMIN_ID, admin_client_secret=SecretStr(ADMIN_SECRET), rate_limit_burst=10_000)
    app = create_app(runtime, settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
            yield http, tmp_path


async def bearer(http: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return {"authorization": "Bearer " + (await http.post("/api/v1/auth/token", data=form)).json()["access_token"]}


async def test_access_matrix(embedded) -> None:  # noqa: ANN001
    http, var = embedded
    spec = (await http.get("/openapi.json")).json()
    ops = operations(spec)
    listed = {(m, p) for m, p, _ in ops}
    assert {("post", "/api/v1/clients"), ("get", "/api/v1/reference/areas")} <= listed
    assert spec["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/api/v1/auth/token"
    admin = await bearer(http, ADMIN_ID, ADMIN_SECRET)

    async def client(scopes: list[str], centre: str | None) -> dict[str, str]:
        made = (await http.post("/api/v1/clients", json={"name": "m", "scopes": scopes, "centre_id": centre},
                                headers=admin)).json()
        return await bearer(http, made["client_id"], made["client_secret"])

    everything_but_admin = sorted(set(SCOPES) - {"admin"})
    principals = {
        "admin": (admin, set(SCOPES)),
        "centre A": (await client(everything_but_admin, "centre-a"), set(everything_but_admin)),
        "centre B": (await client(["candidates:read", "candidates:write", "vacancies:read"], "centre-b"),
                     {"candidates:read", "candidates:write", "vacancies:read"}),
        "mobile backend": (await client(["candidates:write", "matching:read"], None), {"candidates:write", "matching:read"}),
    }
    key = load_or_create_key(var / "gateway-signing-key.pem")
    someone = Principal("cl_x", "centre-a", frozenset(SCOPES))
    other_key = TokenIssuer(Ed25519PrivateKey.generate(), "joblink", "joblink-api", 900)
    other_key.kid = TokenIssuer(key, "joblink", "joblink-api", 900).kid
    rejected = {
        "no token": {},
        "expired token": {"authorization": "Bearer " + TokenIssuer(key, "joblink", "joblink-api", -300).issue(someone)},
        "wrong audience": {"authorization": "Bearer " + TokenIssuer(key, "joblink", "elsewhere", 900).issue(someone)},
        "another key": {"authorization": "Bearer " + other_key.issue(someone)},
        "unsigned": {"authorization": "Bearer " + jwt.encode({"sub": "cl_x", "scope": "admin"}, None, algorithm="none")},
    }

    failures = []
    for method, path, scopes in ops:
        url = concrete(path)
        if (method, path) in PUBLIC:
            continue
        if scopes is None:
            failures.append(f"{method.upper()} {path} declares no security")
            continue
        for name, headers in rejected.items():
            status = (await http.request(method, url, headers=headers, json={})).status_code
            if status != 401:
                failures.append(f"{name}: {method.upper()} {path} → {status}, expected 401")
        for name, (headers, held) in principals.items():
            allowed = "admin" in held or set(scopes) <= held
            status = (await http.request(method, url, headers=headers, json={})).status_code
            if allowed and status in (401, 403):
                failures.append(f"{name}: {method.upper()} {path} → {status}, expected access")
            if not allowed and status != 403:
                failures.append(f"{name}: {method.upper()} {path} → {status}, expected 403")
    assert not failures, "\n".join(failures)
