"""config.yml validation: every mistake names the key, the problem and an example."""

import subprocess
import sys
from pathlib import Path

import pytest

from domain.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_config_is_valid():
    config = load_config(REPO / "config.yml")
    assert config.shop.name == "Kaffeehaus Morgenrot"
    assert config.shop.address_form in ("du", "sie")
    assert config.reports.digest_hour == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shop:\n  name: X\n  address_form: ihr\n", ["shop.address_form", "'du' or 'sie'", "Example: address_form: du"]),
        ("shop:\n  name: X\n  timezone: Europe/Berln\n", ["shop.timezone", "not a known time zone", "Europe/Berlin"]),
        ("shop:\n  name: X\n  colour: red\n", ["shop.colour", "unknown key"]),
        ("shop:\n  name: ''\n", ["shop.name", "at least 1 character", "Example: name: Kaffeehaus Morgenrot"]),
        ("staff:\n  admin_ids: [abc]\n", ["shop: is required"]),
        ("shop:\n  name: X\nnlu:\n  timeout_seconds: -1\n", ["nlu.timeout_seconds", "greater than 0", "Example: timeout_seconds: 2.0"]),
        ("shop:\n  name: X\nstaff:\n  staff_chat_id: gruppe\n", ["staff.staff_chat_id", "Example: staff_chat_id: -1001234567890"]),
        ("shop:\n  name: X\ncomplaints:\n  business_hours: {mo-fr: '18:00-08:00'}\n",
         ["complaints.business_hours", "open before it closes", "Example: business_hours:"]),
        ("shop:\n  name: X\ncomplaints:\n  business_hours: {mo-fr: geschlossen}\n",
         ["complaints.business_hours", "some open time"]),
        ("shop:\n  name: X\ncomplaints:\n  goodwill_points: [50, -5]\n", ["complaints.goodwill_points", "between 1"]),
        ("shop:\n  name: X\ncomplaints:\n  priority: {extra_keywords: {anwalt: [x]}}\n",
         ["complaints.priority.extra_keywords", "unknown reason 'anwalt'"]),
        ("shop:\n  name: X\ncomplaints:\n  holidays: [24.12.]\n", ["complaints.holidays"]),
        ("shop:\n  name: X\nsegments:\n  vip_revenue_share: 80\n",
         ["segments.vip_revenue_share", "less than or equal to 1", "Example: vip_revenue_share: 0.8"]),
        ("shop:\n  name: X\nsegments:\n  regular_min_purchases: 1\n",
         ["segments.regular_min_purchases", "greater than or equal to 2", "Example: regular_min_purchases: 4"]),
        ("shop:\n  name: X\nmilestones:\n  birthday: {text: 'Alles Gute, {name}!'}\n",
         ["milestones.birthday.text", "unknown placeholder {name}", "use {vorname}, {punkte}"]),
        ("shop:\n  name: X\nmilestones:\n  win_back: {after_days: 3}\n",
         ["milestones.win_back.after_days", "greater than or equal to 7", "Example: after_days: 60"]),
        ("shop:\n  name: X\nmilestones:\n  expiry_warning: {text: 'Nur noch {punkte Punkte'}\n",
         ["milestones.expiry_warning.text", "without its partner"]),
        ("shop:\n  name: X\nreports:\n  digest_hour: 24\n",
         ["reports.digest_hour", "less than or equal to 23", "Example: digest_hour: 8"]),
        ("shop:\n  name: X\nreports:\n  digest_hour: -1\n", ["reports.digest_hour", "greater than or equal to 0"]),
        ("shop: [\n", ["not valid YAML"]),
        ("- just a list\n", ["top level"]),
    ],
)
def test_invalid_config_explains_key_problem_and_example(tmp_path, text, expected):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    for fragment in expected:
        assert fragment in str(error.value)


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="file not found.*STAMMGAST_CONFIG"):
        load_config(tmp_path / "nope.yml")


def test_env_overrides_admins_and_staff_chat():
    config = load_config(REPO / "config.yml").with_overrides((1, 2), -100)
    assert config.staff.admin_ids == (1, 2)
    assert config.staff.staff_chat_id == -100


def test_invalid_config_stops_the_start_with_exit_code_2(tmp_path):
    bad = write(tmp_path, "shop:\n  name: X\n  address_form: ihr\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=REPO, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "STAMMGAST_CONFIG": str(bad), "TELEGRAM_BOT_TOKEN": "1:x",
             "NLU_URL": "http://127.0.0.1:9", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite"},
    )
    assert result.returncode == 2
    assert "shop.address_form" in result.stderr and "Example" in result.stderr
    assert "Traceback" not in result.stderr
