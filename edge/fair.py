"""The fair queue of background work: per person and per kind, bounded, served in turn.

One pool with one first-come queue let one person's 40 inbox reads delay a colleague's form by a minute and a
half. Here every task belongs to a person (the Slack user whose request made it: `PERSON`, set by a Bolt
middleware and carried into the listener's thread) and a kind (lookups, inbox pages, plans, ...):

- the workers serve people in turn (round robin), and a person's kinds in turn;
- a person runs at most `per_person` tasks at once, so the others always find a free worker;
- a person's pending tasks of one kind are bounded (`pending`): past it `Busy` is raised and the caller tells
  them to wait; a task with the same key as one still pending replaces it (the newest of identical requests
  runs, once: Slack has closed the older one's modal when it opened the newer one);
- a task runs with `PERSON` set to its person, so the reads it fans out (`FairExecutor`, the directory's pool)
  are queued in that person's lane of their own fair queue as well.
"""
from __future__ import annotations

import contextvars
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
PERSON: contextvars.ContextVar[str] = contextvars.ContextVar("person", default="bot")


class Busy(Exception):
    """This person already has as many tasks of this kind waiting as the queue holds."""


@dataclass
class _Task:
    who: str
    kind: str
    key: Hashable | None
    call: Callable[[], Any]
    future: Future = field(default_factory=Future)


class FairQueue:
    """A bounded, per-person, per-kind queue served round robin by `workers` threads."""

    def __init__(self, *, workers: int = 8, per_person: int = 2, pending: int | None = 4, name: str = "fair",
                 strict: bool = True) -> None:
        self.workers, self.per_person, self.pending, self.name = workers, per_person, pending, name
        # strict: never more than per_person at once. Not strict (short tasks, e.g. reads): a person may use idle
        # workers beyond their share while nobody else waits; a newcomer then waits for one task, no longer.
        self.strict = strict
        self._lanes: dict[str, dict[str, deque[_Task]]] = {}  # person -> kind -> waiting tasks (both in turn)
        self._running: Counter[str] = Counter()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, who: str, kind: str, fn: Callable[..., Any], *args: Any, key: Hashable | None = None,
               **kwargs: Any) -> Future:
        """Queue fn(*args, **kwargs) as `who`'s work of `kind`; raises Busy when their share is full."""
        task = _Task(who, kind, key, lambda: fn(*args, **kwargs))
        dropped = None
        with self._cond:
            if self._closed:
                raise RuntimeError(f"{self.name} queue is shut down")
            lane = self._lanes.get(who, {}).get(kind, deque())
            same = next((i for i, t in enumerate(lane) if key is not None and t.key == key), None)
            if same is not None:  # the newest of identical requests takes the older one's place
                dropped, lane[same] = lane[same], task
            elif self.pending is not None and len(lane) >= self.pending:
                raise Busy(kind)
            else:
                lane.append(task)
                self._lanes.setdefault(who, {})[kind] = lane  # (a lane is never kept empty)
            self._start_workers()
            self._cond.notify()
        if dropped is not None:
            dropped.future.cancel()
        return task.future

    def room(self, who: str, kind: str) -> bool:
        """True while `who` may queue another (different) task of `kind`."""
        with self._cond:
            return self.pending is None or len(self._lanes.get(who, {}).get(kind, ())) < self.pending

    def load(self, who: str) -> int:
        """How many of `who`'s tasks are running or waiting."""
        with self._cond:
            return self._running[who] + sum(len(q) for q in self._lanes.get(who, {}).values())

    def waiting(self, who: str | None = None) -> int:
        with self._cond:
            return sum(len(q) for w, kinds in self._lanes.items() if who in (None, w) for q in kinds.values())

    def shutdown(self, wait: bool = False, cancel_futures: bool = True) -> None:
        with self._cond:
            self._closed = True
            if cancel_futures:
                for kinds in self._lanes.values():
                    for lane in kinds.values():
                        for task in lane:
                            task.future.cancel()
                self._lanes.clear()
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    # -- the workers ---------------------------------------------------------------------------------------
    def _start_workers(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _next(self) -> _Task | None:
        """The next task (under the lock): people within their share first, then (not strict) anyone."""
        task = self._take(capped=True)
        return task if task is not None or self.strict else self._take(capped=False)

    def _take(self, capped: bool) -> _Task | None:
        """The oldest task of the next kind of the person running fewest (ties: whose turn it is); that kind and
        that person then go to the back of their turn."""
        waiting = [w for w in self._lanes if not capped or self._running[w] < self.per_person]
        if not waiting:
            return None
        who = min(waiting, key=lambda w: self._running[w])  # min() keeps the first of equals: the turn order
        kinds = self._lanes.pop(who)
        kind = next(iter(kinds))
        lane = kinds.pop(kind)
        task = lane.popleft()
        if lane:
            kinds[kind] = lane  # its next task waits behind this person's other kinds
        if kinds:
            self._lanes[who] = kinds  # this person waits behind everyone else
        self._running[who] += 1
        return task

    def _work(self) -> None:
        while True:
            with self._cond:
                task = self._next()
                while task is None and not self._closed:
                    self._cond.wait()
                    task = self._next()
                if task is None:
                    return
            try:
                if task.future.set_running_or_notify_cancel():
                    context = contextvars.copy_context()
                    context.run(PERSON.set, task.who)
                    task.future.set_result(context.run(task.call))
            except BaseException as e:  # handed to whoever holds the future (Deps.later logs it)
                task.future.set_exception(e)
            finally:
                with self._cond:
                    self._running[task.who] -= 1
                    self._cond.notify_all()


class FairExecutor(Executor):
    """An Executor over a FairQueue: each call goes to the lane of the person whose work submits it (`PERSON`).

    For fan-out reads (the directory's pool): unbounded per person, so one request's reads are never refused, and
    not strict: alone, one person's inbox uses every worker; with others waiting, each gets their share in turn."""

    def __init__(self, *, workers: int = 8, per_person: int = 4, name: str = "read") -> None:
        self.queue = FairQueue(workers=workers, per_person=per_person, pending=None, name=name, strict=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self.queue.submit(PERSON.get(), "read", fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.queue.shutdown(wait=wait, cancel_futures=cancel_futures)


class CarryingExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context (Bolt's listener executor: a listener
    then still knows whose request it answers, which `PERSON` the middleware set)."""

    def submit(self, fn, /, *args, **kwargs):  # noqa: D102
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
