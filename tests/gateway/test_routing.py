import pytest

from gateway.openapi import merge_openapi
from gateway.routes import service_for


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/candidates", "candidates"),
        ("/api/v1/candidates/abc", "candidates"),
        ("/api/v1/candidates:import", "candidates"),
        ("/api/v1/candidates/abc/matches", "matching"),
        ("/api/v1/vacancies/v1/matches", "matching"),
        ("/api/v1/vacancies/v1:close", "vacancies"),
        ("/api/v1/employers/e1", "vacancies"),
        ("/api/v1/job-fairs/f1/allocations/r1", "matching"),
        ("/api/v1/invitations/i1/rsvp", "matching"),
        ("/api/v1/candidatesX", None),
        ("/api/v1/unknown", None),
    ],
)
def test_paths_route_to_their_owning_service(path: str, service: str | None) -> None:
    assert service_for(path) == service


def test_merge_keeps_public_paths_and_renames_conflicting_schemas() -> None:
    base = {"openapi": "3.1.0", "info": {"title": "JobLink API"}, "paths": {"/healthz": {}}}
    ref = {"$ref": "#/components/schemas/Item"}
    a = {
        "paths": {"/api/v1/candidates": {"get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}}}}}, "/healthz": {}},
        "components": {"schemas": {"Item": {"type": "object", "title": "candidate"}}},
    }
    b = {
        "paths": {"/api/v1/vacancies": {"get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}}}}}},
        "components": {"schemas": {"Item": {"type": "object", "title": "vacancy"}}},
    }
    merged = merge_openapi(base, {"candidates": a, "vacancies": b})
    assert set(merged["paths"]) == {"/healthz", "/api/v1/candidates", "/api/v1/vacancies"}
    schemas = merged["components"]["schemas"]
    assert schemas["Item"]["title"] == "candidate" and schemas["VacanciesItem"]["title"] == "vacancy"
    vacancy_ref = merged["paths"]["/api/v1/vacancies"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert vacancy_ref == {"$ref": "#/components/schemas/VacanciesItem"}
    assert merged["paths"]["/api/v1/candidates"]["get"]["tags"] == ["candidates"]
