"""Client credentials, tokens, scopes, the identity the services verify, rate limits."""

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.tokens import InvalidToken, TokenIssuer, load_or_create_key
from kit.auth import IDENTITY_HEADER, IdentityCodec, Principal
from tests.gateway.harness import ADMIN_ID, ADMIN_SECRET, INTERNAL_KEY, Gateway

ENDPOINT = "/api/v1/candidates/abc"


async def test_client_credentials_token_is_an_eddsa_jwt_listed_in_the_jwks(gateway: Gateway) -> None:
    client_id, secret = await gateway.client(["candidates:read", "matching:read"], centre_id="hp-01")
    response = await gateway.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    keys = (await gateway.http.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in keys] == [header["kid"]]
    claims = jwt.decode(body["access_token"], jwt.PyJWK(keys[0]), algorithms=["EdDSA"], audience="joblink-api")
    assert claims["sub"] == client_id and claims["centre_id"] == "hp-01"
    assert claims["scope"] == "candidates:read matching:read"


async def test_token_endpoint_errors_follow_oauth2(gateway: Gateway) -> None:
    client_id, secret = await gateway.client(["candidates:read"])
    cases = [
        ({"grant_type": "password", "client_id": client_id, "client_secret": secret}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": secret}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "admin"}, 400,
         "invalid_scope"),
    ]
    for form, status, error in cases:
        response = await gateway.http.post("/api/v1/auth/token", data=form)
        assert (response.status_code, response.json()["error"]) == (status, error)


async def test_credentials_may_come_in_a_basic_header(gateway: Gateway) -> None:
    import base64

    client_id, secret = await gateway.client(["candidates:read"])
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = await gateway.http.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200 and response.json()["access_token"]
    missing = await gateway.http.post("/api/v1/auth/token", data={"grant_type": "client_credentials"})
    assert (missing.status_code, missing.json()["error"]) == (401, "invalid_client")


async def test_a_token_can_be_narrowed_to_fewer_scopes(gateway: Gateway) -> None:
    client_id, secret = await gateway.client(["candidates:read", "candidates:write"])
    narrow = await gateway.token(client_id, secret, scope="candidates:read")
    headers = {"authorization": f"Bearer {narrow}"}
    assert (await gateway.http.get(ENDPOINT, headers=headers)).status_code == 200
    assert (await gateway.http.post("/api/v1/candidates", headers=headers)).status_code == 403


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.tokens

    issuer = TokenIssuer(Ed25519PrivateKey.generate(), "joblink", "joblink-api", 900)
    principal = Principal("cl_x", "hp-01", frozenset({"candidates:read"}))
    token = issuer.issue(principal)
    assert issuer.verify(token) == principal
    monkeypatch.setattr(gateway.tokens.jwt, "decode", lambda *_a, **_k: pytest.fail("verified again"))
    assert issuer.verify(token) == principal  # the same string: no signature check
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    monkeypatch.undo()
    with pytest.raises(InvalidToken):  # another string is checked, and refused
        issuer.verify(tampered)
    now = time.time()
    monkeypatch.setattr(gateway.tokens.time, "time", lambda: now + 901)
    with pytest.raises(InvalidToken, match="Expired"):
        issuer.verify(token)
    assert token not in issuer._verified
    monkeypatch.undo()
    issuer.VERIFIED_MAX = 3
    tokens = [issuer.issue(Principal(f"cl_{i}", None, frozenset())) for i in range(5)]
    assert [issuer.verify(t).client_id for t in tokens] == [f"cl_{i}" for i in range(5)]
    assert list(issuer._verified) == tokens[2:]  # the oldest forgotten, not refused


def forged_tokens(var: Path) -> dict[str, str]:
    key = load_or_create_key(var / "gateway-signing-key.pem")
    principal = Principal("cl_x", "hp-01", frozenset({"candidates:read"}))
    other = TokenIssuer(Ed25519PrivateKey.generate(), "joblink", "joblink-api", 900)
    other.kid = TokenIssuer(key, "joblink", "joblink-api", 900).kid  # same kid, other key
    return {
        "expired": TokenIssuer(key, "joblink", "joblink-api", -120).issue(principal),
        "wrong audience": TokenIssuer(key, "joblink", "another-api", 900).issue(principal),
        "wrong issuer": TokenIssuer(key, "someone", "joblink-api", 900).issue(principal),
        "signed by another key": other.issue(principal),
        "unsigned": jwt.encode({"sub": "cl_x", "scope": "admin"}, key=None, algorithm="none"),
        "garbage": "not-a-jwt",
    }


async def test_missing_and_bad_tokens_get_401(gateway: Gateway, tmp_path: Path) -> None:
    response = await gateway.http.get(ENDPOINT)
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    for name, token in forged_tokens(tmp_path).items():
        response = await gateway.http.get(ENDPOINT, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 401, name


async def test_missing_scope_gets_403(gateway: Gateway) -> None:
    headers = await gateway.bearer(["vacancies:read"])
    response = await gateway.http.get(ENDPOINT, headers=headers)
    assert response.status_code == 403 and "candidates:read" in response.json()["detail"]


async def test_services_refuse_requests_that_bypass_the_gateway(gateway: Gateway) -> None:
    assert (await gateway.service.get(ENDPOINT)).status_code == 401
    forged = IdentityCodec(b"a-different-key-of-at-least-32-bytes!!").sign(
        Principal("cl_x", None, frozenset({"admin"}))
    )
    assert (await gateway.service.get(ENDPOINT, headers={IDENTITY_HEADER: forged})).status_code == 401
    genuine = IdentityCodec(INTERNAL_KEY.encode()).sign(Principal("cl_x", None, frozenset({"candidates:read"})))
    assert (await gateway.service.get(ENDPOINT, headers={IDENTITY_HEADER: genuine})).status_code == 200


async def test_an_identity_sent_by_a_client_is_replaced_by_the_gateway(gateway: Gateway) -> None:
    headers = await gateway.bearer(["candidates:read"], centre_id="hp-01")
    leaked_admin = IdentityCodec(INTERNAL_KEY.encode()).sign(Principal("evil", None, frozenset({"admin"})))
    response = await gateway.http.get(ENDPOINT, headers={**headers, IDENTITY_HEADER: leaked_admin})
    assert response.json()["client_id"] != "evil" and response.json()["scopes"] == ["candidates:read"]


async def test_only_admins_manage_clients_and_rotation_and_revocation_work(gateway: Gateway) -> None:
    centre = await gateway.bearer(["candidates:read", "candidates:write"], centre_id="hp-01")
    denied = await gateway.http.post("/api/v1/clients", json={"name": "x", "scopes": ["admin"]}, headers=centre)
    assert denied.status_code == 403
    admin = {"authorization": f"Bearer {await gateway.token(ADMIN_ID, ADMIN_SECRET)}"}
    bad = await gateway.http.post("/api/v1/clients", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "scopes.0"

    client_id, old_secret = await gateway.client(["candidates:read"])
    token = await gateway.token(client_id, old_secret)
    rotated = await gateway.http.post(f"/api/v1/clients/{client_id}:rotate", headers=admin)
    new_secret = rotated.json()["client_secret"]
    assert new_secret != old_secret
    stale = await gateway.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": old_secret},
    )
    assert stale.status_code == 401
    await gateway.token(client_id, new_secret)

    assert (await gateway.http.get(ENDPOINT, headers={"authorization": f"Bearer {token}"})).status_code == 200
    assert (await gateway.http.post(f"/api/v1/clients/{client_id}:revoke", headers=admin)).status_code == 204
    assert (await gateway.http.get(ENDPOINT, headers={"authorization": f"Bearer {token}"})).status_code == 401
    listed = {c["client_id"]: c["status"] for c in (await gateway.http.get("/api/v1/clients", headers=admin)).json()}
    assert listed[client_id] == "revoked"
    assert (await gateway.http.post("/api/v1/clients/nobody:rotate", headers=admin)).status_code == 404


async def test_responses_carry_security_headers(gateway: Gateway) -> None:
    response = await gateway.http.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("burst", [3])
async def test_rate_limit_in_memory(gateway: Gateway, burst: int) -> None:
    from gateway.ratelimit import MemoryBuckets

    gateway_app = gateway.http._transport.app  # noqa: SLF001
    gateway_app.state.buckets = MemoryBuckets(burst, per_second=0.01)
    headers = await gateway.bearer(["candidates:read"])
    statuses = [(await gateway.http.get(ENDPOINT, headers=headers)).status_code for _ in range(burst + 1)]
    assert statuses == [200] * burst + [429]
    limited = await gateway.http.get(ENDPOINT, headers=headers)
    assert int(limited.headers["retry-after"]) >= 1


async def test_a_gateway_database_out_of_reach_is_a_503_from_the_gateway_itself(gateway: Gateway) -> None:
    """The rate limits live in the gateway's database: without it, an API call and a public page
    are a 503 to retry, answered by the gateway's middleware itself, with no exception left for
    the server (which would then close the connection under the client's next request)."""

    class Unreachable:
        async def take(self, _key: str) -> None:
            raise ConnectionRefusedError(111, "Connection refused")

    headers = await gateway.bearer(["candidates:read"])
    gateway_app = gateway.http._transport.app  # noqa: SLF001
    gateway_app.state.buckets = Unreachable()
    call = await gateway.http.get(ENDPOINT, headers=headers)
    page = await gateway.http.post("/rsvp/ABCD2345", data={"answer": "yes"})
    for response in (call, page):
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert response.json()["type"].endswith("/database-unavailable")
        assert response.headers["x-content-type-options"] == "nosniff"  # the gateway's own answer


async def test_tokens_of_an_external_identity_provider_are_accepted_through_its_jwks() -> None:
    import httpx
    from fastapi import FastAPI

    from gateway.security import Authenticator
    from gateway.tokens import ExternalTokens, InvalidToken

    idp = TokenIssuer(Ed25519PrivateKey.generate(), "https://sso.haiphong.gov.vn", "joblink-api", 300)
    idp_app = FastAPI()
    idp_app.get("/jwks")(idp.jwks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=idp_app), base_url="http://idp") as client:
        external = ExternalTokens("http://idp/jwks", "https://sso.haiphong.gov.vn", "joblink-api", client)
        own = TokenIssuer(Ed25519PrivateKey.generate(), "joblink", "joblink-api", 300)
        authenticator = Authenticator(own, registry=None, external=external)  # type: ignore[arg-type]
        principal = Principal("centre-sso", "hp-07", frozenset({"candidates:read"}))
        assert await authenticator.principal(idp.issue(principal)) == principal
        stranger = TokenIssuer(Ed25519PrivateKey.generate(), "https://sso.haiphong.gov.vn", "joblink-api", 300)
        with pytest.raises(InvalidToken):
            await authenticator.principal(stranger.issue(principal))
        wrong_audience = TokenIssuer(idp.key, "https://sso.haiphong.gov.vn", "other-api", 300)
        with pytest.raises(InvalidToken):
            await authenticator.principal(wrong_audience.issue(principal))


async def test_cors_allows_only_configured_origins(tmp_path: Path) -> None:
    import httpx
    from pydantic import SecretStr

    from gateway.app import create_app
    from kit.settings import RuntimeSettings
    from tests.gateway.harness import make_gateway_settings, migrate_gateway

    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    app = create_app(make_gateway_settings(service_urls={}, cors_origins=["https://vieclam.haiphong.gov.vn"]), runtime)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            preflight = {"access-control-request-method": "GET", "access-control-request-headers": "authorization"}
            allowed = await client.options(
                "/api/v1/reference/areas", headers={"origin": "https://vieclam.haiphong.gov.vn", **preflight}
            )
            assert allowed.headers["access-control-allow-origin"] == "https://vieclam.haiphong.gov.vn"
            denied = await client.options("/api/v1/reference/areas", headers={"origin": "https://evil.example", **preflight})
            assert "access-control-allow-origin" not in denied.headers
