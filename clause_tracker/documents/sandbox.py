"""Run the parsing of a hostile PDF or image in a child process with CPU and memory limits.

A decompression bomb or a pathological file then costs at most the limits and ends
as a clear refusal (`Refused("resource_limit")`), never as a crash of the web worker.
The children fork from a forkserver that has the parsers imported already
(starting a fresh interpreter per file would cost more than the parsing); each child
makes itself a process group, so Tesseract or pdftoppm started by it die with it.

Each child reads exactly one file and ends. To keep the fork off the request's path,
the next child is forked when one finishes and waits, without limits and holding no
data, until it is given its job (a spare per worker process: one idle process, its
memory shared with the forkserver's).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from flask import current_app, has_app_context

# Imported into the forkserver once, so each child starts with them loaded (warm_up also
# runs the readers once). "__main__" too, or every child would import the main script
# again (that of pytest or gunicorn); like any multiprocessing user, a script calling the
# engine needs its __main__ guard.
PRELOAD = ["__main__", "clause_tracker.documents.analyse", "clause_tracker.documents.warm_up"]


@dataclass(frozen=True)
class ReturnedLimits:
    """Limits for returned PDFs and images; defaults match config.Config's settings."""

    max_pages: int = 500  # PDF_MAX_PAGES
    max_pixels: int = 60_000_000  # IMAGE_MAX_PIXELS: one image or one rasterised page
    max_ocr_pages: int = 20  # OCR_MAX_PAGES: about 3 s each
    cpu_seconds: int = 100  # SANDBOX_CPU_SECONDS, per process (the child, each Tesseract)
    wall_seconds: int = 110  # SANDBOX_WALL_SECONDS: the whole job, below gunicorn's 120 s
    memory_bytes: int = 1024 * 1024 * 1024  # SANDBOX_MEMORY_BYTES: address space per process

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReturnedLimits:
        keys = {
            "max_pages": "PDF_MAX_PAGES",
            "max_pixels": "IMAGE_MAX_PIXELS",
            "max_ocr_pages": "OCR_MAX_PAGES",
            "cpu_seconds": "SANDBOX_CPU_SECONDS",
            "wall_seconds": "SANDBOX_WALL_SECONDS",
            "memory_bytes": "SANDBOX_MEMORY_BYTES",
        }
        return cls(**{field: int(config[key]) for field, key in keys.items() if key in config})

    @classmethod
    def current(cls) -> ReturnedLimits:
        return cls.from_config(current_app.config) if has_app_context() else cls()


class Refused(Exception):  # a refusal, not an error of ours
    """Raised inside the child (or for it) with a rejection code and message parameters;
    the caller turns it into a translated DocumentRejected."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


_lock = threading.Lock()
_context: Any = None


@dataclass
class _Child:
    process: Any
    jobs: Connection  # ours to send the one job
    results: Connection  # ours to receive its outcome
    owner: int  # the pid that forked it: a forked web worker must not use its parent's


_spare: _Child | None = None
SPARE_CHILD = True  # False: fork when asked (the benchmark's comparison)


def _ctx() -> Any:
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def _limit_self(limits: ReturnedLimits) -> None:
    # The objects inherited from the forkserver are never garbage: out of the collector's
    # sight, its passes do not touch (and so copy) every page of the forked heap.
    gc.freeze()
    os.setpgid(0, 0)
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
    _lower(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)
    _lower(resource.RLIMIT_CORE, 0, 0)


def _lower(kind: int, soft: int, hard: int) -> None:
    """Set a limit, never above one the process already has (a container's, say)."""
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def _resolve(func: Callable[..., Any] | str) -> Callable[..., Any]:
    if callable(func):
        return func
    module, _, name = func.partition(":")
    return getattr(importlib.import_module(module), name)


def _child(conn: Connection, limits: ReturnedLimits, func: Callable[..., Any] | str,
           args: tuple[Any, ...]) -> None:
    try:
        _limit_self(limits)
        outcome: tuple[Any, ...] = ("ok", _resolve(func)(*args))
    except Refused as exc:
        outcome = ("refused", exc.code, exc.params)
    except MemoryError:
        outcome = ("refused", "resource_limit", {"what": "memory"})
    except BaseException as exc:  # the parser's own failure on a broken file
        outcome = ("failed", type(exc).__name__, str(exc)[:300])
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("refused", "resource_limit", {"what": "memory"}))
    finally:
        conn.close()


def run_limited(func: Callable[..., Any] | str, *args: Any, limits: ReturnedLimits) -> Any:
    """func(*args) in a limited child; raises Refused for refusals, limits and crashes.

    `func` is a module-level function, or its name as "module:function" so that the caller
    need not import the module (the child has it preloaded); arguments and result must
    pickle.
    A parser failure (an exception other than Refused) becomes Refused("corrupt_file").
    """
    child = _ready_child()
    try:
        child.jobs.send((limits, func, args))
    except OSError:  # the spare died while it waited (a signal, the OOM killer)
        _end(child)
        child = _fork()
        child.jobs.send((limits, func, args))
    child.jobs.close()
    try:
        if not child.results.poll(limits.wall_seconds):
            _kill(child.process)
            raise Refused("resource_limit", what="time")
        try:
            outcome = child.results.recv()
        except EOFError:  # died without a word: SIGXCPU, SIGKILL, a segfault
            child.process.join(5)
            what = "cpu" if child.process.exitcode == -signal.SIGXCPU else "crash"
            raise Refused("resource_limit", what=what) from None
    finally:
        _end(child)
    if outcome[0] == "ok":
        return outcome[1]
    if outcome[0] == "refused":
        raise Refused(outcome[1], **outcome[2])
    raise Refused("corrupt_file", detail=f"{outcome[1]}: {outcome[2]}")


def _ready_child() -> _Child:
    """The spare child if there is one (and it is ours), else a new one."""
    global _spare
    with _lock:
        child, _spare = _spare, None
    if child is not None and child.owner == os.getpid():
        return child
    return _fork()


def _fork() -> _Child:
    ctx = _ctx()
    job_out, job_in = ctx.Pipe(duplex=False)
    result_out, result_in = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_waiting_child, args=(job_out, result_in), daemon=True)
    process.start()
    job_out.close()
    result_in.close()
    return _Child(process, job_in, result_out, os.getpid())


def _waiting_child(jobs: Connection, results: Connection) -> None:
    try:
        limits, func, args = jobs.recv()
    except EOFError:  # discarded unused: its parent ended
        return
    jobs.close()
    _child(results, limits, func, args)


def _end(child: _Child) -> None:
    """Kill the used child's process group now; reap it and fork the next spare aside."""
    child.results.close()
    if not SPARE_CHILD:
        _kill(child.process)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, signal.SIGKILL)
    threading.Thread(target=_replace, args=(child,), daemon=True).start()


def _replace(used: _Child) -> None:
    global _spare
    _kill(used.process)
    with _lock:
        if _spare is not None:
            return
    fresh = _fork()
    with _lock:
        if _spare is None:
            _spare = fresh
            return
    fresh.jobs.close()  # another call was faster: this one reads EOF and ends
    fresh.results.close()


def _kill(process: Any) -> None:
    """End the child and whatever it started (its process group)."""
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.join(5)
    if process.is_alive():
        process.kill()
        process.join(5)
