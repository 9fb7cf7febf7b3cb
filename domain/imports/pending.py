"""An import waiting for the owner's confirmation: the bot's dry run, then "Importieren".

The waiting import is a conversation step of the owner in the database (file id, kind, the
file's digest and the report message), so a restart in between loses nothing, and of two taps
(or two replicas) only one imports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import delete
from sqlmodel import Session

from domain import conversation
from domain.config import LoyaltySection
from domain.imports.csv_file import FileError
from domain.imports.fields import read_file
from domain.imports.writing import ImportReport, import_parsed
from storage.models import ConversationState

PENDING_STEP = "confirm_import"


@dataclass(frozen=True)
class PendingImport:
    file_id: str
    kind: str
    digest: str  # sha1 of the file: the confirmed import is the file the dry run showed
    message_id: int  # the message with the buttons: an older report's buttons do nothing


def digest_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def remember_pending(session: Session, customer_id: int, pending: PendingImport, now: datetime) -> None:
    conversation.set_step(session, customer_id, PENDING_STEP, now, {
        "file_id": pending.file_id, "kind": pending.kind, "digest": pending.digest,
        "message_id": pending.message_id,
    })


def pending_import(session: Session, customer_id: int, message_id: int | None, now: datetime) -> PendingImport | None:
    """The import shown in message ``message_id``, if it still waits for confirmation."""
    step = conversation.current_step(session, customer_id, now)
    if step is None or step.name != PENDING_STEP or step.data.get("message_id") != message_id:
        return None
    data = step.data
    return PendingImport(str(data["file_id"]), str(data["kind"]), str(data["digest"]), int(data["message_id"]))


def claim_pending(session: Session, customer_id: int, message_id: int | None, now: datetime) -> PendingImport | None:
    """Take the waiting import out of the conversation, once: of two taps (or two replicas)
    only one gets it."""
    pending = pending_import(session, customer_id, message_id, now)
    if pending is None:
        return None
    claimed = session.execute(delete(ConversationState).where(
        ConversationState.customer_id == customer_id, ConversationState.step == PENDING_STEP)).rowcount
    return pending if claimed == 1 else None


def confirm_pending(session: Session, customer_id: int, message_id: int | None, data: bytes,
                    rules: LoyaltySection, tz: tzinfo, now: datetime) -> ImportReport | None:
    """The owner pressed "Importieren": import the file for real, in the same transaction that
    takes the waiting import (so a failed import can be confirmed again). None: already done."""
    parsed = read_file(data, tz, now)  # before the first query (see writing.py)
    pending = claim_pending(session, customer_id, message_id, now)
    if pending is None:
        return None
    if digest_of(data) != pending.digest or parsed.kind != pending.kind:
        raise FileError("changed")  # raising rolls the claim back
    report = import_parsed(session, parsed, rules, now)
    if not report.ok:
        session.rollback()  # nothing imported; the confirmation stays, the report says why
    return report
