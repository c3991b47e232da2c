"""One OpenAPI document for Swagger UI, merged from every service's own document."""

from __future__ import annotations

import copy
import json
from typing import Any

REF_PREFIX = "#/components/schemas/"


def merge_openapi(base: dict[str, Any], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge service documents into ``base`` (the gateway's own). A component schema that two
    services define differently is renamed ``<Service><Name>`` in the later one."""
    merged = copy.deepcopy(base)
    paths = merged.setdefault("paths", {})
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    for service, doc in sorted(documents.items()):
        doc = copy.deepcopy(doc)
        renames = {
            name: f"{service.capitalize()}{name}"
            for name, schema in doc.get("components", {}).get("schemas", {}).items()
            if name in schemas and schemas[name] != schema
        }
        if renames:
            doc = _rename_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for kind, entries in doc.get("components", {}).items():
            if kind != "schemas":  # security schemes and the rest: one definition each
                merged["components"].setdefault(kind, {}).update(entries)
        for path, operations in doc.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue  # health, readiness and metrics are per service, not public API
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation.setdefault("tags", [service])
                    for tag in operation["tags"]:
                        tags.setdefault(tag, {"name": tag})
            paths.setdefault(path, {}).update(operations)
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def _rename_refs(doc: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(doc)
    for old, new in renames.items():
        text = text.replace(f'"{REF_PREFIX}{old}"', f'"{REF_PREFIX}{new}"')
    out = json.loads(text)
    schemas = out.get("components", {}).get("schemas", {})
    out["components"]["schemas"] = {renames.get(k, k): v for k, v in schemas.items()}
    return out
