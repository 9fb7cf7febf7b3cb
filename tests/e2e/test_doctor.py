"""`python -m bot doctor` against the real services: all good, then each problem in one line."""

import asyncio
import sys

from tests.e2e.harness import ADMIN_ID, REPO, STAFF_CHAT_ID, bot_environment


async def doctor(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode, output.decode()


async def test_doctor_passes_when_everything_is_in_place(api, database_url, rasa_url):
    code, output = await doctor(bot_environment(api, database_url, rasa_url))
    assert code == 0, output
    assert "✔ token: valid, bot @morgenrot_bot" in output
    assert f"✔ owners: {ADMIN_ID} (STAMMGAST_ADMIN_IDS)" in output
    assert f"✔ staff group: {STAFF_CHAT_ID} (STAMMGAST_STAFF_CHAT_ID)" in output
    assert f"✔ nlu: {rasa_url} answers" in output
    assert "All checks passed." in output


async def test_doctor_names_each_problem_with_its_fix(api, tmp_path):
    env = bot_environment(api, "postgresql://nobody@127.0.0.1:1/none", "http://127.0.0.1:9",
                          TELEGRAM_BOT_TOKEN="42:wrong", STAMMGAST_CONFIG=str(tmp_path / "missing.yml"))
    code, output = await doctor(env)
    assert code == 1
    lines = output.splitlines()
    assert any(l.startswith("✘ config:") and "file not found" in l for l in lines)
    assert any(l.startswith("✘ database: cannot connect") and "DATABASE_URL" in l for l in lines)
    assert any(l.startswith("✘ nlu: NLU_URL=http://127.0.0.1:9 does not answer") and "python -m nlu serve" in l for l in lines)
    assert any(l.startswith("✘ token: Telegram rejects TELEGRAM_BOT_TOKEN") for l in lines)
    assert "42:wrong" not in output
    assert "4 problem(s) to fix" in output


async def test_doctor_without_token_says_where_to_get_one(api, database_url, rasa_url):
    env = bot_environment(api, database_url, rasa_url)
    del env["TELEGRAM_BOT_TOKEN"]
    code, output = await doctor(env)
    assert code == 1 and "TELEGRAM_BOT_TOKEN is not set" in output and "@BotFather" in output
