"""Steps many end-to-end tests share, written as a customer would take them."""

from storage.models import Customer, TelegramAccount


async def onboarded(api, first_name="Anna", consent="Ja, gerne", **user_fields):
    """A new customer who sent /start and answered the consent question: one message (greeting,
    privacy line, question) that the answer turned into the menu."""
    user = api.new_user(first_name=first_name, **user_fields)
    await user.send_command("/start")
    await user.press(consent, message=await user.next_message())
    await user.next_callback_answer()
    await user.next_edit()  # the question is now the menu
    return user


def customer_of(db, user) -> Customer | None:
    with db.session() as session:
        account = session.get(TelegramAccount, user.id)
        return session.get(Customer, account.customer_id) if account else None
