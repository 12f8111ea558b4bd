"""Removing a container that stops while the engine kills it: the engine's 500 is answered by asking again.

CI saw `Could not kill running container ..., cannot remove - Container ... is not running` from a forced
removal (the container's last process ended during the kill): the sandbox's close raised and the container
was left behind. No engine is needed: the client is a stand-in that answers as the engine did.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes._docker_container import remove_quietly

docker = pytest.importorskip("docker")

RACE = "Could not kill running container abc, cannot remove - Container abc is not running"


class _Api:
    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.calls = 0

    def remove_container(self, container_id: str, *, force: bool) -> None:
        self.calls += 1
        if self.failures:
            raise docker.errors.APIError(self.failures.pop(0))


class _Client:
    def __init__(self, failures: list[str]) -> None:
        self.api = _Api(failures)


def test_a_container_that_stopped_during_the_kill_is_removed_on_a_second_ask() -> None:
    client: Any = _Client([RACE])
    remove_quietly(client, "abc")
    assert client.api.calls == 2


def test_another_engine_error_is_still_raised() -> None:
    client: Any = _Client(["driver failed"])
    with pytest.raises(docker.errors.APIError, match="driver failed"):
        remove_quietly(client, "abc")
    client = _Client([RACE, RACE])
    with pytest.raises(docker.errors.APIError, match="is not running"):
        remove_quietly(client, "abc")  # asked once more, not for ever
