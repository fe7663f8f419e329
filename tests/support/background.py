"""Running a test server on a background thread."""

from __future__ import annotations

import socketserver
import threading
from typing import Self


class ServesInBackground:
    """Starts ``_server`` on ``_thread`` when entered; shuts it down and joins when left."""

    _server: socketserver.BaseServer
    _thread: threading.Thread

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
