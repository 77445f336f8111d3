"""The app server's own clock for bench/load.py: loaded by the app processes it starts (PYTHONPATH), inert elsewhere.

When CONVVIZ_SERVER_CLOCK names a file, it appends one line per event, with time.monotonic() (CLOCK_MONOTONIC, the
same clock as the load test's), to that file:
    <t> <session id> rerun                       a rerun request was read from a session's websocket
    <t> <session id> finished <status> <msg id>  the run's script_finished message was queued for the browser
    <t> <msg id> queued <payload id>             ... and handed to the websocket's send queue
    <t> <payload id> written                     ... and written to the socket (waits while the browser does not read)
    <t> loop late <seconds>                      the server's event loop woke that late from a 50 ms sleep
    <t> installed <module>                       a wrapper is in place (written as the server starts)
So the load test can tell the server's response time from the time a browser on the same (busy) 2 cores takes to
send a request and read the reply. It wraps two Streamlit 1.67 internals (AppSession and the Starlette websocket
client) as their modules are imported; if they change, it writes nothing and the report says so.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import threading
import time

_LOG = os.environ.get("CONVVIZ_SERVER_CLOCK")
_LOCK = threading.Lock()
_SESSION = "streamlit.runtime.app_session"
_WEBSOCKET = "streamlit.web.server.starlette.starlette_websocket"


def _note(text: str) -> None:
    with _LOCK, open(_LOG, "a") as f:
        f.write(f"{time.monotonic():.4f} {text}\n")


def _wrap_session(module) -> None:
    cls = module.AppSession
    read, queue = cls.handle_backmsg, cls._enqueue_forward_msg

    def handle_backmsg(self, msg):
        if msg.WhichOneof("type") == "rerun_script":
            _note(f"{self.id} rerun")
        return read(self, msg)

    def enqueue_forward_msg(self, msg):
        if msg.WhichOneof("type") == "script_finished":
            _note(f"{self.id} finished {msg.script_finished} {id(msg)}")
        return queue(self, msg)

    cls.handle_backmsg, cls._enqueue_forward_msg = handle_backmsg, enqueue_forward_msg


def _wrap_websocket(module) -> None:
    import asyncio

    cls = module.StarletteSessionClient
    write = cls.write_forward_msg
    watched: dict[int, bytes] = {}  # payloads of script_finished messages, until written
    state = {"monitor": None}

    async def loop_lateness():
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(0.05)
            _note(f"loop late {time.monotonic() - t0 - 0.05:.4f}")

    def watch_writes(client) -> None:
        """Wrap this client's websocket send: note when a watched payload has been written."""
        send = client._websocket.send_bytes

        async def send_bytes(payload):
            await send(payload)
            if watched.pop(id(payload), None) is payload:
                _note(f"{id(payload)} written")

        client._websocket.send_bytes = send_bytes
        client._cv_watched = True

    def write_forward_msg(self, msg):
        if not getattr(self, "_cv_watched", False):
            watch_writes(self)
        if state["monitor"] is None:  # called on the server's event loop
            state["monitor"] = asyncio.get_running_loop().create_task(loop_lateness())
        write(self, msg)
        if msg.WhichOneof("type") == "script_finished":
            payload = self._send_queue._queue[-1]
            watched[id(payload)] = payload
            _note(f"{id(msg)} queued {id(payload)}")

    cls.write_forward_msg = write_forward_msg


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the two modules right after Streamlit imports them."""

    wrappers = {_SESSION: _wrap_session, _WEBSOCKET: _wrap_websocket}

    def find_spec(self, name, path, target=None):
        wrap = self.wrappers.pop(name, None)
        if wrap is None:
            return None
        if not self.wrappers:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            try:
                wrap(module)
            except Exception as err:  # a Streamlit that changed these internals: no clock, the app unaffected
                _note(f"unavailable {name} {type(err).__name__}")
            else:
                # Noted as the server starts, so the log exists even for a process that serves no session (nginx's
                # hash may send every browser to the other one): a clock with nothing to report, not a missing one.
                _note(f"installed {name}")

        spec.loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _Finder())
