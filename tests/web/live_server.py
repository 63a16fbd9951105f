"""A real uvicorn server over TCP, in a thread of the test process, and people who use it from other threads.

The race tests need what TestClient cannot give: requests that truly overlap. Here each request
is a real HTTP request on its own connection, served by uvicorn's event loop and the app's thread
pool, against a real SQLite file or PostgreSQL database, exactly as in production (one worker).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.web.conftest import PASSWORD

LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free local port until the block ends; yields the base URL."""
    app.state.settings = app.state.settings.model_copy(update={"secure_cookies": False})  # plain http on localhost
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


class Person:
    """One logged-in browser: its own connection pool, cookie jar and CSRF token."""

    def __init__(self, base: str, username: str, password: str = PASSWORD) -> None:
        self.username = username
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
        page = self.client.get("/login")
        token = LOGIN_TOKEN.search(page.text)
        assert token is not None, page.text
        response = self.client.post("/login", data={"username": username, "password": password,
                                                    "login_token": token.group(1)},
                                    headers={"Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 303, response.text
        found = CSRF_TOKEN.search(self.client.get("/").text)
        assert found is not None
        self.csrf = found.group(1)

    def post(self, path: str, data: dict[str, str] | None = None, files: Any = None) -> httpx.Response:
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf}, files=files,
                                headers={"Sec-Fetch-Site": "same-origin"})

    def close(self) -> None:
        self.client.close()


def race(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls at the same moment, each in its own thread; their responses in the same order."""
    start = threading.Barrier(len(calls))

    def go(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(go, call) for call in calls]]
