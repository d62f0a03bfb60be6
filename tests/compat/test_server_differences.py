"""What the tested MLflow servers themselves answer differently, pinned per version.

These talk to the servers directly (not through the function): they record why the function has
its own rules (a name with ``/`` or ``:`` is ``INVALID_REQUEST`` on every version) and which
server features it may rely on everywhere (aliases). If an upgrade changes an answer here, the
docs/function.md's "MLflow servers tested" list and docs/design.md §5 change with it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.support import register_model

# (HTTP status, error_code) each server answers registered-models/get for a name it refuses.
NAME_WITH_SLASH_OR_COLON = {
    "2.9": (404, "RESOURCE_DOES_NOT_EXIST"),
    "2.22": (404, "RESOURCE_DOES_NOT_EXIST"),
    "3.17": (400, "INVALID_PARAMETER_VALUE"),
}


def _get(url: str, route: str, params: dict[str, str]) -> tuple[int, dict]:
    query = urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(f"{url}/api/2.0/mlflow/{route}?{query}", timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("name", ["team/PascalStrategy", "PascalStrategy:v2"], ids=["slash", "colon"])
def test_servers_answer_a_name_with_a_slash_or_colon_differently(server, name):
    status, body = _get(server.url, "registered-models/get", {"name": name})

    assert (status, body.get("error_code")) == NAME_WITH_SLASH_OR_COLON[server.major_minor]


def test_every_tested_server_has_model_aliases(server):
    # Aliases came with MLflow 2.3, so the champion alias works on all of them.
    name = register_model(server.client, ["Staging"])
    server.client.set_registered_model_alias(name, "champion", "1")

    status, body = _get(server.url, "model-versions/get", {"name": name, "version": "1"})

    assert (status, body["model_version"]["aliases"]) == (200, ["champion"])


def test_an_unknown_alias_is_invalid_parameter_value_not_not_found(server):
    # The function reads a missing challenger alias as "none": it must accept this answer.
    name = register_model(server.client, ["Staging"])

    status, body = _get(server.url, "registered-models/alias", {"name": name, "alias": "challenger"})

    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_no_server_lists_aliases_in_a_search_result(server):
    # So the function learns a version's aliases from model-versions/get, never from a search.
    name = register_model(server.client, ["Staging"])
    server.client.set_registered_model_alias(name, "champion", "1")

    status, body = _get(server.url, "model-versions/search", {"filter": f"name = '{name}'"})

    [found] = body["model_versions"]
    assert (status, found.get("aliases", [])) == (200, [])
