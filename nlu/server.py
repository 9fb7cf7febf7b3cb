"""Run the Rasa NLU server as a child process (``rasa run --enable-api``).

The bot's default run starts one and stops it on shutdown; the tests start one per session.
Readiness is taken from Rasa's own log line, not from polling, and a server that exits during
start-up is reported with the tail of its output.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections import deque
from pathlib import Path

from nlu.rasa_env import ensure_rasa_env, rasa_subprocess_env
from nlu.settings import NluSettings

log = logging.getLogger(__name__)

READY_LINE = "Rasa server is up and running"
START_TIMEOUT_SECONDS = 180


class RasaServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RasaServer:
    """One ``rasa run`` process serving ``model`` on 127.0.0.1:``port``, from the Rasa
    environment of ``settings`` (set up first if missing)."""

    def __init__(self, model: Path, settings: NluSettings, port: int | None = None):
        self.model = model
        self.settings = settings
        self.port = port or free_port()
        self.process: asyncio.subprocess.Process | None = None
        self._output: deque[str] = deque(maxlen=40)
        self._reader: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        rasa = ensure_rasa_env(self.settings)
        self.process = await asyncio.create_subprocess_exec(
            str(rasa), "run", "--enable-api", "--model", str(self.model),
            "--interface", "127.0.0.1", "--port", str(self.port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env=rasa_subprocess_env(), start_new_session=True,
        )
        ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._follow_output(ready))
        try:
            await asyncio.wait_for(ready, timeout)
        except (asyncio.TimeoutError, RasaServerError) as error:
            tail = "\n".join(self._output)
            await self.stop()
            raise RasaServerError(f"Rasa server did not start on port {self.port}: {error!r}\n{tail}") from error
        log.info("nlu server started", extra={"url": self.url, "model": self.model.name})

    async def _follow_output(self, ready: asyncio.Future) -> None:
        assert self.process and self.process.stdout
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self._output.append(line)
            if READY_LINE in line and not ready.done():
                ready.set_result(True)
        if not ready.done():
            ready.set_exception(RasaServerError(f"exited with code {await self.process.wait()}"))

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except asyncio.TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def __aenter__(self) -> "RasaServer":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
