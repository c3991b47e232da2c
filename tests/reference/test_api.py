"""The reference endpoints, through the gateway."""

import httpx
import pytest

from tests.gateway.harness import Gateway


@pytest.fixture
async def client(gateway: Gateway) -> httpx.AsyncClient:
    gateway.http.headers.update(await gateway.bearer(["vacancies:read"]))
    return gateway.http


async def test_reference_data_needs_a_token(gateway: Gateway) -> None:
    assert (await gateway.http.get("/api/v1/reference/areas")).status_code == 401


async def test_areas_of_hai_phong_in_both_layouts(client: httpx.AsyncClient) -> None:
    current = (await client.get("/api/v1/reference/areas")).json()["items"]
    assert len(current) == 114 and all(a["layout"] == "current" for a in current)
    legacy = (await client.get("/api/v1/reference/areas", params={"layout": "legacy"})).json()["items"]
    assert {a["code"] for a in legacy} >= {"303", "304", "314"}
    ngo_quyen = next(a for a in legacy if a["code"] == "304")
    assert ngo_quyen["name"] == "Quận Ngô Quyền" and ngo_quyen["default_ward_code"] in ngo_quyen["current_ward_codes"]


async def test_unknown_area_is_a_problem_naming_the_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/reference/areas/99999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "99999" in response.json()["detail"]
    bad = await client.get("/api/v1/reference/areas", params={"province": "3x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "province"


async def test_normalise_skills_and_search_occupations(client: httpx.AsyncClient) -> None:
    found = (await client.post("/api/v1/reference/skills:normalise", json={"text": "han dien, chơi cờ vua"})).json()
    assert found[0]["how"] == "exact" and found[0]["label_vi"]
    assert found[1] == {"code": None, "label_vi": None, "text": "chơi cờ vua", "how": "free_text", "score": 0.0}
    occs = (await client.get("/api/v1/reference/occupations", params={"q": "tho han", "level": 4})).json()
    assert any(o["code"] == "7212" for o in occs)
    enums = (await client.get("/api/v1/reference/enumerations")).json()
    assert enums["trade_levels"]["7"] and enums["qualifications"]["college"] == "Cao đẳng"


async def test_reference_endpoints_are_in_the_merged_openapi(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/api/v1/reference/areas" in paths and "/api/v1/reference/skills:normalise" in paths
