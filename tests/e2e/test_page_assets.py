"""The page's files as served: right types for module scripts, nothing outside static/."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import page


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(page.router)
    return TestClient(app)


def test_index_is_html_with_a_strict_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<script type="module" src="/static/js/main.js">' in response.text


def test_every_module_the_page_imports_is_served_as_javascript(client):
    pending, seen = ["/static/js/main.js"], set()
    while pending:
        path = pending.pop()
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/javascript"), path
        for name in re.findall(r'from "\./([\w-]+\.js)"', response.text):
            if f"/static/js/{name}" not in seen:
                pending.append(f"/static/js/{name}")
    assert len(seen) >= 8
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/static/../page.py", "/static/%2e%2e/page.py", "/static/js/../../page.py",
                                  "/static/missing.js", "/static/js", "/static/..%2fpage.py"])
def test_nothing_outside_static_is_served(client, path):
    assert client.get(path).status_code == 404


def test_page_is_not_in_the_api_schema(client):
    assert client.get("/openapi.json").json()["paths"] == {}
