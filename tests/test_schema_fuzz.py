"""Schema-driven fuzzing: schemathesis reads ``/api/schema`` from a live server process and sends
generated requests, valid and invalid, to every operation, authenticated as a seeded user.

Every answer must be no 5xx, a status the schema documents for the operation, the documented
content type, and a body that matches the documented (enveloped) schema. Bounded: a fixed number
of examples per operation, derandomized so a CI failure replays locally.
"""

import os
from collections.abc import Iterator

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.databases import fresh_database_url
from tests.support.server import ServerProcess

# IM_FUZZ_EXAMPLES raises it for a longer local run.
EXAMPLES_PER_OPERATION = int(os.environ.get("IM_FUZZ_EXAMPLES", "15"))
# Operations that end the session they are called with: fuzzed last, so the token the others
# use stays valid as long as possible (a revoked token still gets well-formed 40001 answers).
SESSION_ENDING = {("POST", "/logout"), ("POST", "/user/password")}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator[ServerProcess]:
    tmp_path = tmp_path_factory.mktemp("fuzz")
    with fresh_database_url(tmp_path, "fuzz") as database_url:
        server = ServerProcess(
            {
                "DATABASE_URL": database_url,
                "IM_MEDIA_ROOT": str(tmp_path / "media"),
                "IM_THROTTLE": "0",
                "LOG_LEVEL": "WARNING",
            }
        )
        server.seed_demo()
        server.start()
        yield server
        server.stop()


def token_for(server: ServerProcess, username: str) -> str:
    status, body = server.request("POST", "/login", {"username": username, "password": "demo1234"})
    assert status == 200, body
    return body["data"]["access_token"]


def test_every_operation_answers_as_its_schema_says(fuzz_server):
    server = fuzz_server
    schema = schemathesis.openapi.from_url(f"{server.base_url}/api/schema?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    operations.sort(key=lambda op: (op.method.upper(), op.path) in SESSION_ENDING)

    session = requests.Session()
    failures: list[str] = []
    for operation in operations:
        # Each operation starts with a fresh token, so one that revokes it spoils nothing else.
        headers = {"Authorization": f"Bearer {token_for(server, 'alice')}"}
        try:
            fuzz(operation, server.base_url, session, headers)
        except (Exception, BaseExceptionGroup) as exc:  # failed checks: note, go on
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")

    assert server.process.poll() is None, server.output()[-4000:]
    assert not failures, "\n\n".join(failures)


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(operation, base_url: str, session: requests.Session, headers: dict[str, str]) -> None:
    """``EXAMPLES_PER_OPERATION`` generated requests to ``operation``, every answer checked."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy())
    def run(case) -> None:
        case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=CHECKS)

    run()
