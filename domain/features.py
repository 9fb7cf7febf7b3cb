"""The features whose outbox rows need more than sending: each registers its hooks
(``domain.outbox.register``) when its module is imported, and importing them here makes sure
they have by the time a dispatcher sends anything. A new feature with outbox hooks joins the list.

- campaigns: a campaign's text is filled with the customer's figures at send time;
- milestones: a greeting that ends undelivered takes its gift back;
- tickets: a ticket's message whose recipient is gone is reported to the team.
"""

from __future__ import annotations

from domain import campaigns, milestones, outbox, tickets
from domain.config import ShopConfig

WITH_OUTBOX_HOOKS = (campaigns, milestones, tickets)


def outbox_hooks(config: ShopConfig) -> outbox.Hooks:
    """The hooks of the features above (and of any other registered one), with their rules."""
    return outbox.Hooks(config)
