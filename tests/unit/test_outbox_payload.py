"""An outbox row's payload: a message with its attachment (a photo, file, voice message ...)
survives the round trip through the database's JSON, and rows queued before attachments had
kinds (a "photo" or "document" key of their own) are still read as what they were."""

import pytest

from domain import outbox
from domain.outbox import Attachment, Button, MessageSpec


@pytest.mark.parametrize("kind", outbox.ATTACHMENT_KINDS)
def test_every_kind_of_attachment_survives_the_payload(kind):
    text = None if kind == outbox.VIDEO_NOTE else "📎 Anna (#3)"  # a video note has no caption
    spec = MessageSpec(text=text, attachment=Attachment(kind, f"{kind}-id"), reply_to_key="ticket:3:alert:0",
                       buttons=((Button("x", callback="y"),),))
    payload = spec.to_payload()
    assert payload["attachment"] == {"kind": kind, "file_id": f"{kind}-id"}
    assert MessageSpec.from_payload(payload) == spec


def test_a_message_without_attachment_keeps_a_small_payload():
    payload = MessageSpec("tickets.relayed", {"number": 1}).to_payload()
    assert "attachment" not in payload and MessageSpec.from_payload(payload).attachment is None


def test_rows_queued_before_attachments_had_kinds_are_read_as_a_photo_or_a_file():
    old_photo = {"template": "tickets.customer_photo", "params": {"number": 1}, "text": None, "buttons": [],
                 "photo": "AgAC-photo", "reply_to_key": "ticket:1:alert:0"}
    old_file = {"template": "tickets.staff_reply", "params": {"number": 1}, "text": None, "buttons": [],
                "document": "BQAC-file", "silent": True}
    assert MessageSpec.from_payload(old_photo).attachment == Attachment(outbox.PHOTO, "AgAC-photo")
    assert MessageSpec.from_payload(old_photo).reply_to_key == "ticket:1:alert:0"
    spec = MessageSpec.from_payload(old_file)
    assert (spec.attachment, spec.silent) == (Attachment(outbox.DOCUMENT, "BQAC-file"), True)


def test_a_video_note_takes_no_caption_and_unknown_kinds_are_refused():
    note = Attachment(outbox.VIDEO_NOTE, "DQAC-note")
    assert not note.takes_caption and Attachment(outbox.VOICE, "v").takes_caption
    with pytest.raises(ValueError, match="no caption"):
        MessageSpec("tickets.customer_video_note", {"number": 1}, attachment=note)
    with pytest.raises(ValueError, match="unknown attachment kind"):
        Attachment("sticker", "CAAC")
