"""schemathesis over every operation of the API, as every role: no server error, every answer as
documented, every error in the one shape (see ``api_fuzz``; a longer run: bench/schemathesis_api.py)."""

from __future__ import annotations

from server.api_fuzz import ROLES, fuzz
from server.conftest import World


def test_every_operation_as_every_role(world: World) -> None:
    tally = fuzz(world, examples=3)
    operations = {label for label, _ in tally.answers}
    assert len(operations) >= 50  # every operation of the document was tried
    assert tally.requests >= len(operations) * len(ROLES) * 2
    assert not tally.failures, "\n".join(tally.failures)
