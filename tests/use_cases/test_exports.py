"""/export's files from a real database (SQLite and PostgreSQL): imported customers and
purchases, a purchase at the counter, a reversal, an erased customer - and the same from the
command line (``python -m bot export``)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import cli_export
from bot.__main__ import main as bot_main
from domain import customers, data_rights, exports, imports, purchases, team
from domain.config import LoyaltySection
from domain.customers import TelegramProfile
from domain.rules import nps

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
RULES = LoyaltySection(points_per_euro=Decimal(1), rounding="down", expiry_months=24)
CUSTOMERS_CSV = (
    "Kundennummer;Vorname;Nachname;Telefon;Geburtstag;Punkte\n"
    "1001;Jürgen;Müßig;0151 12345678;03.05.1985;120\n"
    '1002;"Anna; die Zweite";"Berg ""Bergi""";;24.12.;\n'
).encode()
PURCHASES_CSV = (
    "kundennummer;datum;betrag;kategorie\n"
    "1001;24.12.2025 14:30;4,50;Kaffee\n"
    "1001;10.11.2026;1.234,50;Bohnen\n"
    "1002;01.11.2026 09:15;12;\n"
).encode()
WORDS = {"yes": "ja", "no": "nein", "source:import": "Import", "source:counter": "Kasse",
         "reason:purchase": "Einkauf", "reason:import": "Übernahme", "reason:correction": "Storno"}


@pytest.fixture
def shop(store):
    """Jürgen and Anna imported with their purchases, Carl who came through Telegram and bought
    at the counter (then reversed), and Dora, who bought and had her data erased."""
    with store.session() as session:
        imports.run_import(session, CUSTOMERS_CSV, RULES, BERLIN, NOW)
    with store.session() as session:
        imports.run_import(session, PURCHASES_CSV, RULES, BERLIN, NOW)
    ids = {}
    for name, user_id in (("Carl", 501), ("Dora", 502)):
        with store.session() as session:
            ids[name] = customers.register(session, TelegramProfile(user_id, user_id, name, "Quast"), NOW).customer.id
        with store.session() as session:
            booking = purchases.book_purchase(session, ids[name], Decimal("7.80"), RULES, NOW, f"counter:{name}",
                                              purchases.COUNTER, category="Kuchen")
            ids[f"{name}-purchase"] = booking.purchase.id
    with store.session() as session:
        purchases.reverse_purchase(session, ids["Carl-purchase"], "falsch getippt", NOW + timedelta(minutes=5), RULES)
    with store.session() as session:
        data_rights.erase_customer(session, ids["Dora"], NOW + timedelta(hours=1))
    return ids


def export(store, typed: str, now: datetime = NOW + timedelta(days=1),
           team_user_ids: frozenset[int] = frozenset()) -> list[dict[str, str]]:
    buffer = io.StringIO(newline="")
    with store.reading() as session:
        count = exports.export(session, buffer, exports.parse_request(typed, now, BERLIN), BERLIN, WORDS,
                               team_user_ids)
    text = buffer.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))
    assert len(rows) == count
    return rows


def test_purchases_of_a_period_with_amounts_that_add_up(store, shop):
    rows = export(store, "einkaeufe 30")
    assert [(r["kundennummer"], r["datum"], r["betrag"], r["kategorie"], r["quelle"]) for r in rows] == [
        ("1001", "10.11.2026", "1234,50", "Bohnen", "Import"),
        ("1002", "01.11.2026", "12,00", "", "Import"),
        ("", "22.11.2026", "7,80", "Kuchen", "Kasse"),
        ("", "22.11.2026", "7,80", "Kuchen", "Kasse"),
    ]
    assert rows[1]["vorname"] == "Anna; die Zweite" and rows[1]["nachname"] == 'Berg "Bergi"'
    assert rows[1]["uhrzeit"] == "09:15"
    carl, dora = rows[2], rows[3]
    assert (carl["vorname"], carl["storniert_am"], carl["storno_grund"]) == ("Carl", "22.11.2026", "falsch getippt")
    assert (dora["vorname"], dora["nachname"], dora["storno_grund"]) == ("", "", "")  # erased
    assert dora["kunden_id"] == str(shop["Dora"])
    # the whole history when asked for it: last year's coffee too
    assert len(export(store, "einkaeufe 2025")) == 1 and len(export(store, "purchases 999")) == 5


def test_customers_by_default_everyone_erased_ones_without_their_data(store, shop):
    rows = {r["kunden_id"]: r for r in export(store, "kunden")}
    assert len(rows) == 4
    juergen = next(r for r in rows.values() if r["kundennummer"] == "1001")
    assert (juergen["vorname"], juergen["telefon"], juergen["geburtstag"], juergen["einkaeufe"], juergen["umsatz"]) == (
        "Jürgen", "'+4915112345678", "03.05.1985", "2", "1239,00")
    assert juergen["punkte"] == str(120 + 4 + 1234) and juergen["werbung"] == "nein" and juergen["telegram_id"] == ""
    carl = rows[str(shop["Carl"])]
    assert (carl["telegram_id"], carl["einkaeufe"], carl["umsatz"], carl["punkte"]) == ("501", "0", "0,00", "0")
    dora = rows[str(shop["Dora"])]
    assert {k: dora[k] for k in ("vorname", "nachname", "code", "telegram_id", "telefon")} == dict.fromkeys(
        ("vorname", "nachname", "code", "telegram_id", "telefon"), "")
    assert (dora["einkaeufe"], dora["umsatz"], dora["punkte"], dora["geloescht_am"]) == ("1", "7,80", "7", "22.11.2026")
    assert export(store, "kunden 2025") == []  # registered in that period: nobody


def test_the_shops_own_people_are_listed_only_once_they_bought(store, shop):
    """An owner (by Telegram id) and a staff member who wrote to the bot are no customers; the
    owner who then buys a coffee is one (as in the segments and /bericht)."""
    with store.session() as session:
        owner = customers.register(session, TelegramProfile(901, 901, "Ines"), NOW).customer.id
        customers.register(session, TelegramProfile(902, 902, "Ben"), NOW)
        team.remember_staff_member(session, 902, NOW)
    names = lambda: {r["vorname"] for r in export(store, "kunden", team_user_ids=frozenset({901}))}  # noqa: E731
    assert {"Ines", "Ben"}.isdisjoint(names()) and "Carl" in names()
    with store.session() as session:
        purchases.book_purchase(session, owner, Decimal("3.20"), RULES, NOW, "counter:ines", purchases.COUNTER)
    assert "Ines" in names() and "Ben" not in names()


def test_points_entries_with_their_reasons(store, shop):
    rows = export(store, "punkte 30")
    assert [(r["punkte"], r["grund"], r["kundennummer"]) for r in rows] == [
        ("120", "Übernahme", "1001"), ("1234", "Übernahme", "1001"), ("12", "Übernahme", "1002"),
        ("7", "Einkauf", ""), ("7", "Einkauf", ""), ("-7", "Storno", "")]
    assert rows[0]["einkauf_nr"] == "" and rows[1]["einkauf_nr"] and rows[1]["verfaellt_am"] == "09.11.2028"  # 731 days
    assert rows[3]["einkauf_nr"] == str(shop["Carl-purchase"]) and rows[5]["einkauf_nr"] == str(shop["Carl-purchase"])


def test_rows_come_in_batches_not_all_at_once(store, shop, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 2)
    assert len(export(store, "einkaeufe 999")) == 5


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(store, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("STAMMGAST_CONFIG", str(Path(__file__).parents[2] / "config.yml"))


def test_command_line_to_stdout_and_to_a_file(cli, store, shop, tmp_path, capsys):
    stdout, err = io.BytesIO(), io.StringIO()
    assert cli_export.main(["einkaeufe", "999"], None, stdout=stdout, err=err) == 0
    data = stdout.getvalue()
    assert data.startswith(b"\xef\xbb\xbf") and err.getvalue() == ""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [r["betrag"] for r in rows] == ["4,50", "1234,50", "12,00", "7,80", "7,80"]

    out = tmp_path / "kunden.csv"
    assert bot_main(["export", "kunden", "--out", str(out)]) == 0
    assert "4 rows written to" in capsys.readouterr().err
    lines = out.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("kunden_id;kundennummer;code;vorname;") and len(lines) == 5


def test_command_line_takes_a_period_of_several_words(cli, store, shop, tmp_path):
    out = tmp_path / "punkte.csv"
    assert bot_main(["export", "punkte", "letzte", "woche", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfbuchung_nr;")


def test_command_line_refuses_what_it_cannot_export(cli, store, tmp_path):
    err = io.StringIO()
    assert cli_export.main(["rechnungen"], None, stdout=io.BytesIO(), err=err) == 2
    assert "I cannot export “rechnungen”" in err.getvalue() and "usage: python -m bot export" in err.getvalue()
    err = io.StringIO()
    assert cli_export.main(["punkte", "5000"], None, stdout=io.BytesIO(), err=err) == 2
    assert f"1 to {nps.MAX_DAYS} days" in err.getvalue()
    err = io.StringIO()
    assert cli_export.main(["kunden"], str(tmp_path / "no" / "such" / "dir.csv"), err=err) == 2
    assert "error:" in err.getvalue()
