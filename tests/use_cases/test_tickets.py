"""Tickets on SQLite and PostgreSQL: opening once, the alert, priority, the SLA timers across
business hours, replies both ways, goodwill in the ledger, resolution, follow-up and reopening."""

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from domain import customers, ledger, outbox, tickets
from domain.config import ShopConfig
from storage.models import OutboxMessage, Ticket, TicketEvent
from tests.use_cases.people import onboarded_customer

# Monday 24 Nov 2026, 16:30 in Berlin (15:30 UTC); the team works Mon-Fri 08-18, Sat 09-14.
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)
STAFF_CHAT = -100500
OWNER = 777
CONFIG = ShopConfig.model_validate({
    "shop": {"name": "Kaffeehaus Morgenrot"},
    "staff": {"admin_ids": [OWNER], "staff_chat_id": STAFF_CHAT},
    "complaints": {"first_response_minutes": 60, "reminder_minutes_before": 15, "follow_up_days": 3,
                   "goodwill_points": [25, 50]},
})
RULES = tickets.rules_from(CONFIG)
PHOTO1 = outbox.Attachment(outbox.PHOTO, "PHOTO1")


def customer(store, user_id=4242) -> int:
    return onboarded_customer(store, user_id, NOW)


def open_complaint(store, customer_id, text="Der Kuchen war trocken", ref="4242:1", now=NOW, **kwargs) -> Ticket:
    with store.session() as session:
        ticket = tickets.open_ticket(session, customer_id, tickets.COMPLAINT, text, ref, RULES, now, **kwargs)
        session.flush()
        session.expunge(ticket)
        return ticket


def rows(store, prefix="") -> list[OutboxMessage]:
    with store.session() as session:
        return [row for row in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
                if row.idempotency_key.startswith(prefix)]


def run_timers(store, now) -> int:
    with store.session() as session:
        return tickets.process_timers(session, RULES, now)


def get(store, ticket_id) -> Ticket:
    with store.session() as session:
        ticket = session.get(Ticket, ticket_id)
        session.expunge(ticket)
        return ticket


def test_a_complaint_opens_once_and_alerts_the_staff_chat(store):
    anna = customer(store)
    first = open_complaint(store, anna, "Bestellnummer 4711: der Kuchen war trocken und zu teuer")
    again = open_complaint(store, anna, "egal", ref="4242:1")  # the same update delivered twice
    assert again.id == first.id
    assert (first.kind, first.status, first.category, first.priority, first.order_ref) == (
        "complaint", "open", "qualitaet", "normal", "4711")
    (alert,) = rows(store, f"ticket:{first.id}:alert")
    assert alert.chat_id == STAFF_CHAT and alert.payload["template"] == "tickets.alert"
    assert [b["callback"] for row in alert.payload["buttons"] for b in row] == [
        f"tkt:claim:{first.id}", f"tkt:reply:{first.id}", f"tkt:solved:{first.id}", f"tkt:goodwill:{first.id}"]
    assert rows(store, f"ticket:{first.id}:priority") == []  # normal priority does not ping the owner


def test_first_response_is_due_in_business_minutes_with_a_reminder_before(store):
    ticket = open_complaint(store, customer(store))
    # 16:30 Berlin + 60 business minutes = 17:30 Berlin; the reminder 15 minutes earlier.
    assert ticket.response_due_at == datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)
    assert ticket.reminder_due_at == datetime(2026, 11, 24, 16, 15, tzinfo=timezone.utc)
    late = open_complaint(store, customer(store, 5), ref="5:1", now=datetime(2026, 11, 27, 16, 50, tzinfo=timezone.utc))
    # Friday 17:50 Berlin: 10 minutes on Friday, 50 on Saturday from 09:00.
    assert late.response_due_at == datetime(2026, 11, 28, 8, 50, tzinfo=timezone.utc)


def test_words_a_detractor_score_and_a_repeat_raise_the_priority(store):
    anna = customer(store)
    lawyer = open_complaint(store, anna, "Das war Betrug, ich gehe zum Anwalt", ref="a")
    assert lawyer.priority == "high" and lawyer.priority_reasons[:2] == ["legal_threat", "fraud_accusation"]
    assert {row.chat_id for row in rows(store, f"ticket:{lawyer.id}:priority")} == {OWNER}
    repeat = open_complaint(store, anna, "Schon wieder kalt", ref="b", now=NOW + timedelta(days=2))
    assert "repeat_complaint" in repeat.priority_reasons and repeat.priority == "high"
    with store.session() as session:  # a question to the team afterwards is not a third complaint
        question = tickets.open_ticket(session, anna, tickets.QUESTION, "Habt ihr meine Tasse gefunden?", "q",
                                       RULES, NOW + timedelta(days=3))
        assert question.priority == "normal" and question.priority_reasons == []
    ben = customer(store, 6)
    sick = open_complaint(store, ben, "Mir ist nach dem Salat übel geworden", ref="c")
    assert sick.priority == "urgent"
    carla = customer(store, 7)
    with store.session() as session:
        nps_ticket = tickets.open_ticket(session, carla, tickets.NPS, "Kaffee kalt", "nps:1", RULES,
                                         NOW, score=2)
        assert nps_ticket.priority == "high" and nps_ticket.priority_reasons == ["detractor_score"]


def test_reminder_then_escalation_once_each_unless_someone_answered(store):
    ticket = open_complaint(store, customer(store))
    assert run_timers(store, ticket.reminder_due_at - timedelta(seconds=1)) == 0
    assert run_timers(store, ticket.reminder_due_at) == 1
    assert run_timers(store, ticket.reminder_due_at + timedelta(minutes=1)) == 0  # not twice
    (reminder,) = rows(store, f"ticket:{ticket.id}:reminder")
    assert reminder.chat_id == STAFF_CHAT and reminder.payload["reply_to_key"] == ticket.alert_key
    assert reminder.payload["params"]["minutes"] == 15
    assert run_timers(store, ticket.response_due_at) == 1
    assert [row.chat_id for row in rows(store, f"ticket:{ticket.id}:breach")] == [OWNER, STAFF_CHAT]
    assert run_timers(store, ticket.response_due_at + timedelta(hours=5)) == 0
    answered = open_complaint(store, customer(store, 8), ref="8:1")
    with store.session() as session:
        result = tickets.reply_to_customer(session, answered.id, 99, "Bea", "Das tut uns leid!", "s:1", NOW)
        assert result.result is tickets.Reply.SENT
    assert run_timers(store, answered.response_due_at + timedelta(minutes=1)) == 0  # the SLA was met


def test_messages_go_both_ways_in_one_thread(store):
    anna, other = customer(store), customer(store, 9)
    ticket = open_complaint(store, anna)
    with store.session() as session:
        assert tickets.relay_from_customer(session, ticket.id, anna, "Noch ein Foto", PHOTO1, "4242:2", RULES, NOW)
        assert tickets.relay_from_customer(session, ticket.id, other, "fremd", None, "9:1", RULES,
                                           NOW) is None  # not her ticket
        outcome = tickets.reply_to_customer(session, ticket.id, 99, "Bea", "Wir ersetzen ihn dir.", "s:1", NOW)
    (photo,) = rows(store, f"ticket:{ticket.id}:in:")
    assert outbox.MessageSpec.from_payload(photo.payload).attachment == PHOTO1
    assert photo.payload["reply_to_key"] == ticket.alert_key
    (answer,) = rows(store, f"ticket:{ticket.id}:out:")
    assert answer.chat_id == 4242 and answer.payload["params"]["text"] == "Wir ersetzen ihn dir."
    assert outcome.result is tickets.Reply.SENT
    with store.session() as session:
        alert_row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == ticket.alert_key)).one()
        alert_row.telegram_message_id = 555
        session.add(alert_row)
    with store.session() as session:
        assert tickets.ticket_of_staff_message(session, STAFF_CHAT, 555) == ticket.id
        assert tickets.ticket_of_staff_message(session, STAFF_CHAT, 556) is None
        assert session.get(Ticket, ticket.id).claimed_by_name == "Bea"  # answering claims a free ticket
        kinds = [e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                              .order_by(TicketEvent.id))]
    assert kinds == ["opened", "customer_photo", "claimed", "staff_reply"]


def test_claiming_is_first_come_and_goodwill_is_booked_once_from_the_presets(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    with store.session() as session:
        assert tickets.claim(session, ticket.id, 1, "Bea", NOW).action is tickets.Action.DONE
    with store.session() as session:
        taken = tickets.claim(session, ticket.id, 2, "Chris", NOW)
        assert (taken.action, taken.by) == (tickets.Action.TAKEN, "Bea")
        assert tickets.grant_goodwill(session, ticket.id, 1000, 1, "Bea", RULES, NOW).action is tickets.Action.BAD_POINTS
        granted = tickets.grant_goodwill(session, ticket.id, 50, 1, "Bea", RULES, NOW)
        assert (granted.action, granted.points, granted.balance) == (tickets.Action.DONE, 50, 50)
    with store.session() as session:
        assert tickets.grant_goodwill(session, ticket.id, 25, 2, "Chris", RULES, NOW).action is tickets.Action.ALREADY
        assert ledger.balance(session, anna) == 50
        assert session.get(Ticket, ticket.id).goodwill_points == 50


def test_resolved_then_followed_up_yes_closes_no_reopens_with_a_new_alert(store):
    anna, other = customer(store), customer(store, 9)
    ticket = open_complaint(store, anna)
    with store.session() as session:
        assert tickets.resolve(session, ticket.id, 1, "Bea", RULES, NOW).action is tickets.Action.DONE
        assert tickets.resolve(session, ticket.id, 1, "Bea", RULES, NOW).action is tickets.Action.ALREADY
    resolved = get(store, ticket.id)
    # three days later at 11:00 Berlin
    assert resolved.follow_up_due_at == datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    assert [r.chat_id for r in rows(store, f"ticket:{ticket.id}:resolved")] == [4242]
    with store.session() as session:  # no answer before the question was asked
        assert tickets.answer_follow_up(session, ticket.id, anna, False, RULES, NOW).action is tickets.Action.ALREADY
    assert run_timers(store, resolved.follow_up_due_at) == 1
    (question,) = rows(store, f"ticket:{ticket.id}:followup")
    assert question.payload["buttons"][0][1]["callback"] == f"tkt:ok:{ticket.id}:no"
    later = resolved.follow_up_due_at + timedelta(hours=1)
    with store.session() as session:
        assert tickets.answer_follow_up(session, ticket.id, other, False, RULES,
                                        later).action is tickets.Action.UNKNOWN  # someone else's ticket
        assert tickets.answer_follow_up(session, ticket.id, anna, False, RULES, later).action is tickets.Action.DONE
    reopened = get(store, ticket.id)
    assert (reopened.status, reopened.times_reopened, reopened.claimed_by_id) == ("open", 1, None)
    assert reopened.alert_key == f"ticket:{ticket.id}:alert:1" and len(rows(store, reopened.alert_key)) == 1
    assert reopened.response_due_at > later
    with store.session() as session:
        tickets.resolve(session, ticket.id, 1, "Bea", RULES, later)
    run_timers(store, later + timedelta(days=4))
    with store.session() as session:
        assert tickets.answer_follow_up(session, ticket.id, anna, True, RULES,
                                        later + timedelta(days=4)).action is tickets.Action.DONE
    assert get(store, ticket.id).status == "closed"


def test_a_blocked_customer_gets_nothing_queued_and_the_team_hears_of_it(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    with store.session() as session:
        customers.mark_unreachable(session, 4242, NOW)
    with store.session() as session:
        outcome = tickets.reply_to_customer(session, ticket.id, 1, "Bea", "Hallo?", "s:1", NOW)
        assert outcome.result is tickets.Reply.UNREACHABLE
        assert tickets.note_undeliverable(session, f"ticket:{ticket.id}:out:s:0", RULES, NOW)
        assert not tickets.note_undeliverable(session, f"survey:{ticket.id}", RULES, NOW)
    assert rows(store, f"ticket:{ticket.id}:out:") == []
    assert len(rows(store, f"ticket:{ticket.id}:undeliverable")) == 1


def test_open_tickets_are_listed_most_urgent_first(store):
    calm = open_complaint(store, customer(store), "Der Tisch war klebrig", ref="a")
    urgent = open_complaint(store, customer(store, 5), "Glassplitter im Kuchen!", ref="b")
    with store.session() as session:
        lines = tickets.open_tickets(session, RULES, NOW + timedelta(minutes=70))
    assert [line.ticket.id for line in lines] == [urgent.id, calm.id]
    assert lines[1].sla_minutes_left == -10  # 70 minutes later, 10 past the deadline


def test_order_references_are_found_only_with_a_number():
    assert tickets.order_reference("Bestellnummer 4711 kam nie an") == "4711"
    assert tickets.order_reference("Bon-Nr. A-0815") == "A-0815"
    assert tickets.order_reference("meine Bestellung #12345") == "12345"
    assert tickets.order_reference("Die Bestellung war falsch") is None
    assert tickets.order_reference("") is None


# --- a flooding customer: one ticket, and their texts merged while they wait --------------------

def relay(store, ticket_id, customer_id, text, ref, attachment=None, now=NOW):
    with store.session() as session:
        return tickets.relay_customer_message(session, customer_id, ticket_id, text, attachment, ref, RULES, now)


def relayed_rows(store, ticket_id) -> list[OutboxMessage]:
    """The rows the staff group will get for the customer's messages (merged ones left out)."""
    return [row for row in rows(store, f"ticket:{ticket_id}:in:") if row.status != outbox.MERGED]


def test_texts_waiting_for_the_staff_group_are_sent_as_one_message(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    relay(store, ticket.id, anna, "Hallo?", "4242:2")
    relay(store, ticket.id, anna, "Ist da   jemand?", "4242:3")
    relay(store, ticket.id, anna, "Ist da jemand?", "4242:3")  # the same update again: not twice
    (merged,) = relayed_rows(store, ticket.id)
    assert merged.idempotency_key == f"ticket:{ticket.id}:in:4242:2"
    assert merged.payload["params"]["text"] == "Hallo?\nIst da jemand?"
    assert merged.payload["reply_to_key"] == ticket.alert_key and merged.priority == outbox.NORMAL
    (marker,) = [row for row in rows(store, f"ticket:{ticket.id}:in:4242:3")]
    assert (marker.status, marker.payload) == (outbox.MERGED, {})  # keeps the key, holds no text
    with store.session() as session:  # the ticket's history keeps every message
        kinds = session.exec(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)).all()
    assert kinds.count("customer_message") >= 2


def test_a_full_message_a_photo_or_a_claimed_row_starts_a_new_one(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    long_text = "x" * tickets.RELAY_EXCERPT
    relay(store, ticket.id, anna, long_text, "r1")
    relay(store, ticket.id, anna, long_text, "r2")  # 3001 characters: still fits
    relay(store, ticket.id, anna, long_text, "r3")  # would make 4502: a second message
    first, second = relayed_rows(store, ticket.id)
    assert first.payload["params"]["text"] == f"{long_text}\n{long_text}"
    assert second.payload["params"]["text"] == long_text
    assert all(len(row.payload["params"]["text"]) <= tickets.MERGED_RELAY_LIMIT for row in (first, second))

    relay(store, ticket.id, anna, "Hier ein Foto", "r4", PHOTO1)  # a photo is a message of its own
    relay(store, ticket.id, anna, "und noch was", "r5")  # after the photo: not merged into the text before it
    texts = [row.payload.get("attachment", {}).get("file_id") or row.payload["params"]["text"]
             for row in relayed_rows(store, ticket.id)]
    assert texts == [f"{long_text}\n{long_text}", long_text, "PHOTO1", "und noch was"]

    with store.session() as session:  # the dispatcher takes the group's rows: the latest one is being sent
        claimed = []
        while batch := outbox.claim_next_per_chat(session, NOW):
            claimed += batch
            for row in batch:
                if row.idempotency_key != f"ticket:{ticket.id}:in:r5":
                    outbox.mark_sent(session, row.id, 1, NOW)
    relay(store, ticket.id, anna, "Hallo??", "r6")  # not appended to a row being sent
    assert [row.payload.get("params", {}).get("text") for row in relayed_rows(store, ticket.id)][-2:] == [
        "und noch was", "Hallo??"]


def test_rapid_complaints_open_one_ticket_and_the_rest_joins_it(store):
    anna = customer(store)
    story = "Der Kuchen war trocken und der Kaffee kalt"
    handovers = []
    for n in range(5):
        with store.session() as session:
            handovers.append(tickets.complain(session, anna, f"{story} ({n})", f"4242:{n}", RULES, NOW))
    assert [h.opened for h in handovers] == [True, False, False, False, False]
    assert all(h.relayed is not None for h in handovers[1:])
    with store.session() as session:
        assert len(session.exec(select(Ticket).where(Ticket.customer_id == anna)).all()) == 1
        again = tickets.complain(session, anna, story, "4242:0", RULES, NOW)  # the first update redelivered
    assert again.opened and again.ticket.id == handovers[0].ticket.id
    (merged,) = relayed_rows(store, handovers[0].ticket.id)  # four complaints, one message for the group
    assert merged.payload["params"]["text"].split("\n") == [f"{story} ({n})" for n in range(1, 5)]
    assert len(rows(store, f"ticket:{handovers[0].ticket.id}:alert")) == 1


def test_complaints_handled_at_once_open_one_ticket(store):
    from tests.use_cases.test_loyalty import run_together

    anna = customer(store)

    def complain(n):
        def job():
            with store.session() as session:
                return tickets.complain(session, anna, f"Der Kuchen war wieder trocken, Nummer {n}", f"4242:{n}",
                                        RULES, NOW).opened
        return job

    results = run_together(*(complain(n) for n in range(4)))
    assert sorted(results) == [False, False, False, True]
    with store.session() as session:
        assert len(session.exec(select(Ticket).where(Ticket.customer_id == anna)).all()) == 1


# --- voice messages, videos, files: relayed with who sent them on which ticket ------------------

def staff_line(row: OutboxMessage) -> tuple[str | None, dict, outbox.Attachment | None]:
    spec = outbox.MessageSpec.from_payload(row.payload)
    return spec.template, spec.params, spec.attachment


def test_a_voice_message_a_file_and_a_video_reach_the_team_captioned_with_name_and_ticket(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    voice = outbox.Attachment(outbox.VOICE, "VOICE1")
    file = outbox.Attachment(outbox.DOCUMENT, "PDF1")
    video = outbox.Attachment(outbox.VIDEO, "VIDEO1")
    relay(store, ticket.id, anna, None, "4242:2", voice)
    relay(store, ticket.id, anna, "Der Kassenbon", "4242:3", file)
    relay(store, ticket.id, anna, None, "4242:4", video)
    relay(store, ticket.id, anna, "und jetzt?", "4242:5")  # a text after them: a message of its own
    relayed = relayed_rows(store, ticket.id)
    assert [staff_line(row) for row in relayed] == [
        ("tickets.customer_voice", {"number": ticket.id, "name": "Anna", "text": ""}, voice),
        ("tickets.customer_document", {"number": ticket.id, "name": "Anna", "text": "Der Kassenbon"}, file),
        ("tickets.customer_video", {"number": ticket.id, "name": "Anna", "text": ""}, video),
        ("tickets.customer_message", {"number": ticket.id, "name": "Anna", "text": "und jetzt?"}, None)]
    assert all(row.chat_id == STAFF_CHAT and row.payload["reply_to_key"] == ticket.alert_key for row in relayed)
    with store.session() as session:
        kinds = session.exec(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
                             .order_by(TicketEvent.id)).all()
    assert kinds == ["opened", "customer_voice", "customer_document", "customer_video", "customer_message"]


def test_a_video_note_has_no_caption_so_its_line_goes_just_before_it(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    note = outbox.Attachment(outbox.VIDEO_NOTE, "NOTE1")
    relay(store, ticket.id, anna, None, "4242:2", note)
    line, video_note = relayed_rows(store, ticket.id)
    assert staff_line(line) == ("tickets.customer_video_note", {"number": ticket.id, "name": "Anna", "text": ""},
                                None)
    assert staff_line(video_note) == (None, {}, note) and video_note.id > line.id  # sent in this order
    assert line.priority == video_note.priority == outbox.NORMAL
    for message_id, row in ((701, line), (702, video_note)):  # a reply to either finds the ticket
        mark_sent(store, row.idempotency_key, message_id)
    with store.session() as session:
        assert tickets.ticket_of_reply(session, STAFF_CHAT, 701) == ticket.id
        assert tickets.ticket_of_reply(session, STAFF_CHAT, 702) == ticket.id


def test_a_staff_reply_to_a_relayed_voice_message_reaches_the_customer(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    relay(store, ticket.id, anna, None, "4242:2", outbox.Attachment(outbox.VOICE, "VOICE1"))
    (voice_row,) = relayed_rows(store, ticket.id)
    mark_sent(store, voice_row.idempotency_key, 801)
    with store.session() as session:
        replied_ticket = tickets.ticket_of_reply(session, STAFF_CHAT, 801)
        outcome = tickets.reply_to_customer(session, replied_ticket, 99, "Bea", "Verstanden, wir rufen an.", "s:9",
                                            NOW)
    assert (replied_ticket, outcome.result) == (ticket.id, tickets.Reply.SENT)
    (answer,) = rows(store, f"ticket:{ticket.id}:out:")
    assert answer.chat_id == 4242 and answer.payload["params"]["text"] == "Verstanden, wir rufen an."


# --- "Weitergeleitet": once for a burst of messages ------------------------------------------------

def test_only_the_first_of_a_burst_of_messages_is_acknowledged(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    pause = tickets.QUIET_ACKNOWLEDGEMENT_PAUSE
    minute = timedelta(minutes=1)
    moments = [NOW, NOW + minute, NOW + 3 * minute, NOW + 3 * minute + pause + timedelta(seconds=1),
               NOW + 3 * minute + 2 * pause + timedelta(seconds=1)]
    acknowledged = [relay(store, ticket.id, anna, f"Nachricht {n}", f"4242:{n + 2}", now=moment).acknowledge
                    for n, moment in enumerate(moments)]
    # the first; not the next two (each came within the pause after the one before, although the
    # third came 3 minutes after the first); again after a longer pause; after exactly the pause: not
    assert acknowledged == [True, False, False, True, False]


def test_a_voice_message_counts_as_a_message_of_the_burst(store):
    anna = customer(store)
    ticket = open_complaint(store, anna)
    assert relay(store, ticket.id, anna, None, "4242:2", outbox.Attachment(outbox.VOICE, "V1")).acknowledge
    assert not relay(store, ticket.id, anna, "Hört ihr mich?", "4242:3", now=NOW + timedelta(seconds=20)).acknowledge


def test_a_complaint_that_joins_the_open_ticket_is_acknowledged_like_any_message(store):
    anna = customer(store)
    story = "Der Kuchen war trocken und der Kaffee kalt"
    with store.session() as session:
        assert tickets.complain(session, anna, story, "4242:1", RULES, NOW).opened
    handovers = []
    for n, seconds in enumerate((10, 20, 400)):
        with store.session() as session:
            handovers.append(tickets.complain(session, anna, f"{story} ({n})", f"4242:{n + 2}", RULES,
                                              NOW + timedelta(seconds=seconds)))
    assert [(h.relayed is not None, h.relayed and h.relayed.acknowledge) for h in handovers] == [(True, True), (True, False), (True, True)]


# --- without a staff group: the owners are the team ----------------------------------------------

SECOND_OWNER = 778
PRIVATE_RULES = tickets.rules_from(ShopConfig.model_validate({
    "shop": {"name": "Kaffeehaus Morgenrot"},
    "staff": {"admin_ids": [OWNER, SECOND_OWNER]},
    "complaints": {"first_response_minutes": 60, "reminder_minutes_before": 15},
}))


def open_private_complaint(store, customer_id, text="Der Kuchen war trocken", ref="4242:1") -> Ticket:
    with store.session() as session:
        ticket = tickets.open_ticket(session, customer_id, tickets.COMPLAINT, text, ref, PRIVATE_RULES, NOW)
        session.flush()
        session.expunge(ticket)
        return ticket


def mark_sent(store, key: str, message_id: int) -> None:
    with store.session() as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
        outbox.mark_sent(session, row.id, message_id, NOW)


def test_without_a_staff_group_each_owner_gets_the_alert_and_the_thread_privately(store):
    assert tickets.team_chats(PRIVATE_RULES) == (OWNER, SECOND_OWNER)
    anna = customer(store)
    ticket = open_private_complaint(store, anna, "Das war Betrug, ich gehe zum Anwalt")
    alerts = rows(store, f"ticket:{ticket.id}:alert")
    assert [(row.idempotency_key, row.chat_id) for row in alerts] == [
        (f"{ticket.alert_key}:{OWNER}", OWNER), (f"{ticket.alert_key}:{SECOND_OWNER}", SECOND_OWNER)]
    assert {row.payload["template"] for row in alerts} == {"tickets.alert"}
    assert rows(store, f"ticket:{ticket.id}:priority") == []  # the alert says it; no second message
    with store.session() as session:
        tickets.relay_from_customer(session, ticket.id, anna, "Und der Kaffee auch", None, "4242:2", PRIVATE_RULES, NOW)
    relayed = rows(store, f"ticket:{ticket.id}:in:")
    assert [(row.chat_id, row.payload["reply_to_key"]) for row in relayed] == [
        (OWNER, f"{ticket.alert_key}:{OWNER}"), (SECOND_OWNER, f"{ticket.alert_key}:{SECOND_OWNER}")]


def test_without_a_staff_group_the_owners_hear_of_a_missed_deadline_once(store):
    ticket = open_private_complaint(store, customer(store))
    with store.session() as session:
        assert tickets.process_timers(session, PRIVATE_RULES, ticket.reminder_due_at) == 1
        assert tickets.process_timers(session, PRIVATE_RULES, ticket.response_due_at) == 1
    assert {row.chat_id for row in rows(store, f"ticket:{ticket.id}:reminder")} == {OWNER, SECOND_OWNER}
    breaches = rows(store, f"ticket:{ticket.id}:breach")
    assert sorted(row.chat_id for row in breaches) == [OWNER, SECOND_OWNER]  # one each, not two
    assert {row.payload["template"] for row in breaches} == {"tickets.owner_breach"}
    assert {row.payload["reply_to_key"] for row in breaches} == {f"{ticket.alert_key}:{OWNER}",
                                                                  f"{ticket.alert_key}:{SECOND_OWNER}"}


def test_an_owner_answers_from_their_private_chat(store):
    anna = customer(store)
    ticket = open_private_complaint(store, anna)
    mark_sent(store, f"{ticket.alert_key}:{OWNER}", 31)
    mark_sent(store, f"{ticket.alert_key}:{SECOND_OWNER}", 45)
    with store.session() as session:
        assert tickets.ticket_of_private_reply(session, OWNER, 31, PRIVATE_RULES) == ticket.id
        assert tickets.ticket_of_private_reply(session, SECOND_OWNER, 45, PRIVATE_RULES) == ticket.id
        assert tickets.ticket_of_private_reply(session, SECOND_OWNER, 31, PRIVATE_RULES) is None  # not in her chat
        assert tickets.ticket_of_private_reply(session, OWNER, 31, RULES) is None  # with a group: only a notice
        copies = tickets.current_alert(session, ticket.id, PRIVATE_RULES, NOW)
        assert copies.messages == ((OWNER, 31), (SECOND_OWNER, 45))
        # "Antworten" pressed in the first owner's chat: a reply to that prompt, and only there, is the answer.
        tickets.start_reply(session, ticket.id, OWNER, "Olga", NOW)
        tickets.note_reply_prompt(session, ticket.id, 32)
    with store.session() as session:
        assert tickets.ticket_of_private_reply(session, OWNER, 32, PRIVATE_RULES) == ticket.id
        assert tickets.ticket_of_private_reply(session, SECOND_OWNER, 32, PRIVATE_RULES) is None
        tickets.reply_to_customer(session, ticket.id, OWNER, "Olga", "Das tut uns leid!", "700:33", NOW)
    with store.session() as session:  # the prompt still takes a second answer
        assert tickets.ticket_of_private_reply(session, OWNER, 32, PRIVATE_RULES) == ticket.id
    (answer,) = rows(store, f"ticket:{ticket.id}:out:")
    assert answer.chat_id == 4242


def test_an_owners_own_ticket_as_a_customer_is_not_theirs_to_answer(store):
    owner_as_customer = customer(store, OWNER)
    ticket = open_private_complaint(store, owner_as_customer, ref="777:1")
    with store.session() as session:
        tickets.reply_to_customer(session, ticket.id, SECOND_OWNER, "Sven", "Wir kümmern uns", "778:1", NOW)
    (answer,) = rows(store, f"ticket:{ticket.id}:out:")
    mark_sent(store, answer.idempotency_key, 90)
    with store.session() as session:  # a reply to the team's answer in their own chat is a customer's message
        assert tickets.ticket_of_private_reply(session, OWNER, 90, PRIVATE_RULES) is None


def test_without_a_staff_group_and_owners_nobody_would_see_a_ticket():
    nobody = tickets.rules_from(ShopConfig.model_validate({"shop": {"name": "Kaffeehaus Morgenrot"}}))
    assert tickets.team_chats(nobody) == () and not tickets.team_reachable(nobody)
    assert tickets.team_chats(RULES) == (STAFF_CHAT,) and tickets.team_reachable(RULES)
