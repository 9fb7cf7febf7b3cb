"""What the database set-up keeps private: a new SQLite file (and its new directory) readable
by its owner only, and no statement values (customer data) in database errors."""

import stat

import pytest
from sqlalchemy.exc import IntegrityError

from storage.db import Store
from storage.models import TelegramAccount


def test_a_new_sqlite_file_and_its_new_directory_are_private(tmp_path):
    path = tmp_path / "data" / "stammgast.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.migrate()
    finally:
        store.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for companion in path.parent.glob("stammgast.db-*"):  # WAL and shared memory, if still there
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600


def test_database_errors_name_no_values(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        store.migrate()
        with pytest.raises(IntegrityError) as error, store.session() as session:
            session.add(TelegramAccount(telegram_user_id=1, customer_id=424242, chat_id=1,
                                        username="anna_private_name"))
    finally:
        store.dispose()
    assert "anna_private_name" not in str(error.value) and "424242" not in str(error.value)
    assert "hidden due to hide_parameters" in str(error.value)
