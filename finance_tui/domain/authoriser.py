"""What a service needs from whoever acts: a permission check that names the actor.

Services take an ``Authoriser`` instead of the session controller, so the dependency
points one way (session -> services -> domain). ``SessionController`` satisfies it
structurally; tests may pass anything with the same method.
"""

from __future__ import annotations

from typing import Protocol

from finance_tui.domain.dto import Principal
from finance_tui.permissions import Permission


class Authoriser(Protocol):
    def require(self, permission: Permission) -> Principal:
        """The verified acting user if allowed; raises (and audits) otherwise."""
        ...
