"""The actions that approvals can perform, registered by the apps downstream of access at start-up.

Access never imports those apps: each one calls `register_action` in its AppConfig.ready with a `perform`
that carries out an approved request inside the approving transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from billops.core.errors import InvalidInput

if TYPE_CHECKING:
    from billops.access.models import ApprovalRequest, User

# perform(request, approver) -> (result_kind, result_id) of what it produced, or None
Perform = Callable[["ApprovalRequest", "User"], "tuple[str, int] | None"]
# link(kind, id) -> the staff page of a target or result, or None when there is none
Link = Callable[[str, int], "str | None"]

ACTION_CODE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
MAX_CODE_LENGTH = 80


@dataclass(frozen=True, slots=True)
class ApprovalAction:
    """An action that may wait for a second person.

    `perform` runs inside the approving transaction (it must not open a durable one), acts exactly on
    `request.snapshot`, `request.amount` and `request.target_id`, and raises a DomainError to refuse: the
    approval is then refused and nothing changes.
    """

    code: str  # "<app>.<action>", e.g. "collections.write_off"
    label: str  # as a coordinator says it: "Write off a balance"
    perform: Perform
    link: Link | None = None  # pages of targets and results, for the approver to open

    def url_for(self, kind: str, pk: int | None) -> str | None:
        """The page of a target or result of this action, if the registering app offers one."""
        if self.link is None or not kind or pk is None:
            return None
        return self.link(kind, pk)


_ACTIONS: dict[str, ApprovalAction] = {}


def register_action(action: ApprovalAction) -> ApprovalAction:
    """Make an action approvable; registering the same action again is harmless, another under its code is
    refused."""
    if len(action.code) > MAX_CODE_LENGTH or not ACTION_CODE.fullmatch(action.code):
        raise ValueError(f"an approval action code looks like 'app.action', not {action.code!r}")
    if not action.label.strip():
        raise ValueError(f"the approval action {action.code} needs a label")
    known = _ACTIONS.get(action.code)
    if known is not None and known != action:
        raise ValueError(f"another approval action is already registered as {action.code}")
    _ACTIONS[action.code] = action
    return action


def get_action(code: str, *, field: str = "action") -> ApprovalAction:
    """The registered action, or InvalidInput naming `field` when no app registered it."""
    action = _ACTIONS.get(code)
    if action is None:
        raise InvalidInput(f"no app performs approvals of {code!r}", field=field)
    return action


def find_action(code: str) -> ApprovalAction | None:
    return _ACTIONS.get(code)


def registered_actions() -> list[ApprovalAction]:
    """Every registered action, by code."""
    return [_ACTIONS[code] for code in sorted(_ACTIONS)]
