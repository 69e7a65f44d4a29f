"""Rendering of untrusted (uploaded) templates in a separate process with a memory and time limit.

The sandboxed Jinja environment (:mod:`docgen.sandbox`) already refuses what a template could
do to the server; this is the second wall.  An :class:`IsolatedRenderer` keeps one child process
(started with ``spawn``: nothing of the parent's memory or threads is shared) that compiles the
template once and renders records sent to it over a pipe.  The child's address space is capped
with ``RLIMIT_AS`` (``memory_mb`` above what it uses after start-up) and each render must answer
within ``seconds``; otherwise the child is killed and :class:`~docgen.errors.TemplateLimitError`
(code ``template_limit``) is raised.  The next render starts a new child.

    with IsolatedRenderer(path, definition, mark_key=key) as r:
        docx = r.render(record)
"""
from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from .errors import DocgenError, TemplateLimitError, TemplateRenderError

DEFAULT_MEMORY_MB = 512
DEFAULT_SECONDS = 30.0
START_SECONDS = 120.0


def _limit_error(name: str, what_en: str, what_vi: str) -> TemplateLimitError:
    return TemplateLimitError(f"template {name} exceeded the {what_en} limit",
                              f"Mẫu {name} vượt giới hạn {what_vi} khi điền dữ liệu; mẫu không được dùng")


def _child(conn, template_path: str, definition, mark_key, memory_mb: int) -> None:
    import resource

    from .render import BulkRenderer
    try:
        renderer = BulkRenderer(template_path, definition, mark_key=mark_key)
    except DocgenError as exc:
        conn.send(("error", type(exc).__name__, str(exc), exc.message_vi))
        return
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * resource.getpagesize()
    cap = used + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    conn.send(("ready",))
    while True:
        try:
            data = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", renderer.render(data)))
        except MemoryError:
            conn.send(("error", "TemplateLimitError", "memory", None))
        except DocgenError as exc:
            conn.send(("error", type(exc).__name__, str(exc), exc.message_vi))
        except Exception as exc:  # noqa: BLE001 - anything else is a broken template, reported, not raised here
            conn.send(("error", "TemplateRenderError", f"{type(exc).__name__}: {exc}", None))


class IsolatedRenderer:
    """Same ``render(data) -> bytes`` as :class:`docgen.render.BulkRenderer`, in a limited child process."""

    def __init__(self, template_path: str | Path, definition: dict | None = None, *,
                 mark_key: bytes | str | None = None, memory_mb: int = DEFAULT_MEMORY_MB,
                 seconds: float = DEFAULT_SECONDS):
        self.template_path = Path(template_path)
        self.name = self.template_path.name
        self.definition, self.mark_key = definition, mark_key
        self.memory_mb, self.seconds = memory_mb, seconds
        self._proc = None
        self._conn = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(child, str(self.template_path), self.definition, self.mark_key,
                                                self.memory_mb), daemon=True, name=f"template {self.name}")
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        answer = self._receive(START_SECONDS)
        if answer[0] != "ready":
            self._raise(answer)

    def _receive(self, timeout: float):
        try:
            if self._conn.poll(timeout):
                return self._conn.recv()
        except (EOFError, OSError):
            self.close()
            raise _limit_error(self.name, "memory", "bộ nhớ") from None
        self.close()
        raise _limit_error(self.name, f"{self.seconds:g} s time", f"thời gian ({self.seconds:g} giây)")

    def _raise(self, answer) -> None:
        _, kind, message, message_vi = answer
        if kind == "TemplateLimitError" and message == "memory":
            self.close()
            raise _limit_error(self.name, "memory", "bộ nhớ")
        from . import errors
        cls = getattr(errors, kind, TemplateRenderError)
        if not (isinstance(cls, type) and issubclass(cls, DocgenError)) or kind in ("MissingFieldError",
                                                                                    "InvalidFieldError"):
            cls = TemplateRenderError
        raise cls(message, message_vi)

    def render(self, data: dict) -> bytes:
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self.close()
                self._start()
            try:
                self._conn.send(data)
            except (OSError, ValueError):
                self.close()
                raise _limit_error(self.name, "memory", "bộ nhớ") from None
            answer = self._receive(self.seconds)
            if answer[0] == "ok":
                return answer[1]
            self._raise(answer)

    def close(self) -> None:
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
