"""The OpenAPI document describes exactly the API that is served, with the roles it enforces."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from backend.api.app import ROUTES
from backend.api.openapi import openapi_document

METHODS = {"get", "post", "put", "patch", "delete"}


def documented() -> set[tuple[str, str]]:
    doc = openapi_document()
    return {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops if m in METHODS}


async def test_every_served_route_is_documented_and_nothing_else(api_client: TestClient) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in api_client.app.router.routes()  # type: ignore[union-attr]
        if route.method in {m.upper() for m in METHODS}
    }
    assert served == documented()


def test_each_operation_lists_the_roles_its_handler_admits() -> None:
    doc = openapi_document()
    for method, path, handler in ROUTES:
        op = doc["paths"][path][method.lower()]
        roles = sorted(r.value for r in getattr(handler, "allowed_roles", ()))
        assert sorted(op["x-roles"]) == roles, (method, path)
        assert (op["security"] != []) == bool(roles), (method, path)


async def test_the_document_is_served_as_openapi_3_json(api_client: TestClient) -> None:
    response = await api_client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = json.loads(await response.text())
    assert doc["openapi"].startswith("3.")
    assert {"info", "paths", "components"} <= doc.keys()
    assert doc["info"]["title"] and doc["info"]["version"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"], (method, path)
            assert op["summary"], (method, path)
    refs = {v.rsplit("/", 1)[1] for v in _values(doc, "$ref")}
    assert refs <= doc["components"]["schemas"].keys()


def _values(node: object, key: str) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [x for v in node.values() for x in _values(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in _values(v, key)]
    return []
