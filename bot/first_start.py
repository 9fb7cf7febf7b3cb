"""At start: who the owners are and which group is the staff group, as far as the database knows
more than the environment and config.yml (owners made in the chat, a group an owner chose or
one that became a supergroup). While there is no owner, the one-time owner code goes to the
console, so whoever runs the bot can make themselves its owner without looking up their id."""

from __future__ import annotations

import logging
import sys

from bot.services import Services
from domain import owners

log = logging.getLogger(__name__)


def load_team(services: Services) -> str | None:
    """Put the stored owners and staff group into the running config; returns the owner code
    while there is no owner (the same over restarts until it is used), else None."""
    with services.store.session() as session:
        services.use_team(*services.stored_team(session))
        if services.config.staff.admin_ids:
            owners.forget_code(session)
            return None
        return owners.pending_code(session, services.now())


def announce_owner_code(code: str, out=sys.stderr) -> None:
    """Say it where the operator looks: the console, and the log (which may go elsewhere)."""
    line = f"No owner yet. Send this code to the bot in a private chat to become the owner: {owners.shown(code)}"
    print(f"\n{'=' * len(line)}\n{line}\n{'=' * len(line)}\n", file=out, flush=True)
    log.warning("no owner yet; send the owner code to the bot in a private chat to become the owner",
                extra={"owner_code": owners.shown(code)})
