"""Run the Rasa NLU server as a child process (``rasa run --enable-api``).

The bot's default run keeps one running (``KeptRasaServer``: started with the bot, started
again when it dies, stopped on shutdown); the tests start one per session. Readiness is taken
from Rasa's own log line, not from polling, and a server that exits during start-up is reported
with the tail of its output.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections import deque
from collections.abc import Callable
from pathlib import Path

from nlu.rasa_env import ensure_rasa_env, rasa_subprocess_env
from nlu.settings import NluSettings

log = logging.getLogger(__name__)

READY_LINE = "Rasa server is up and running"
START_TIMEOUT_SECONDS = 180
LISTEN_TIMEOUT_SECONDS = 30  # from the ready line to the port accepting connections (milliseconds as a rule)
LISTEN_POLL_SECONDS = 0.02
RESTART_DELAYS = (1.0, 5.0, 15.0, 60.0)  # before the next try, after 1, 2, 3, 4+ failed starts in a row


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
            await asyncio.wait_for(self._listening(), LISTEN_TIMEOUT_SECONDS)
        except (asyncio.TimeoutError, RasaServerError, OSError) as error:
            tail = "\n".join(self._output)
            await self.stop()
            raise RasaServerError(f"Rasa server did not start on port {self.port}: {error!r}\n{tail}") from error
        log.info("nlu server started", extra={"url": self.url, "model": self.model.name, "pid": self.process.pid})

    async def _follow_output(self, ready: asyncio.Future) -> None:
        assert self.process and self.process.stdout
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self._output.append(line)
            if READY_LINE in line and not ready.done():
                ready.set_result(True)
        if not ready.done():
            ready.set_exception(RasaServerError(f"exited with code {await self.process.wait()}"))

    async def _listening(self) -> None:
        """Rasa logs its ready line when the model is loaded, just before its web server binds
        the port: a request at once may be refused. Wait until a connection is accepted."""
        while True:
            if self.process.returncode is not None:
                raise RasaServerError(f"exited with code {self.process.returncode}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(LISTEN_POLL_SECONDS)  # polling a port: there is no event to await
                continue
            writer.close()
            await writer.wait_closed()
            return

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


class KeptRasaServer:
    """Keeps one Rasa server running for the bot: starts it, and starts it again (on the same
    port) whenever it dies. The owner hears of every change through three callbacks:
    ``on_up(url, seconds it took)``, ``on_down()`` (it died and is starting again: worth
    waiting for) and ``on_unavailable()`` (a start failed: not worth waiting for now)."""

    def __init__(self, model: Path, settings: NluSettings, on_up: Callable[[str, float], None],
                 on_down: Callable[[], None], on_unavailable: Callable[[], None]):
        self.model = model
        self.settings = settings
        self.on_up, self.on_down, self.on_unavailable = on_up, on_down, on_unavailable
        self.server: RasaServer | None = None
        self.starts = 0
        self._up = False  # between on_up and the news of its death
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_running(), name="nlu-server")

    async def _keep_running(self) -> None:
        loop = asyncio.get_running_loop()
        port, failures = None, 0
        while True:
            self.server = RasaServer(self.model, self.settings, port=port)
            began = loop.time()
            try:
                await self.server.start()
            except RasaServerError:
                failures += 1
                log.exception("the NLU server failed to start; trying again", extra={"failures": failures})
                self.on_unavailable()
                port = None  # the port may be what failed
                await asyncio.sleep(RESTART_DELAYS[min(failures, len(RESTART_DELAYS)) - 1])
                continue
            failures, port = 0, self.server.port
            self.starts += 1
            self._up = True
            self.on_up(self.server.url, loop.time() - began)
            code = await self.server.process.wait()
            log.error("the NLU server stopped; starting it again", extra={"exit_code": code})
            self._went_down()
            await self.server.stop()

    def _went_down(self) -> None:
        if self._up:
            self._up = False
            self.on_down()

    async def lost(self, within: float = 0.5) -> bool:
        """After a failed request: whether the server has died (it is then being started
        again, and ``on_down`` was called). Waits up to ``within`` for the process to be seen
        ending, since a refused connection may come before the news of the exit."""
        if not self._up:
            return True  # already known to be down: starting again, or waiting for the next try
        process = self.server.process
        if process.returncode is None:
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), within)
            except asyncio.TimeoutError:
                return False  # alive: only slow or failing
        self._went_down()
        return True

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.server:
            await self.server.stop()
