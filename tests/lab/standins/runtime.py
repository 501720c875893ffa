"""Watch loops and a delayed-work scheduler shared by the stand-ins."""

import heapq
import itertools
import logging
import threading
import time

from tests.lab.kube import KubeError

LOG = logging.getLogger("standins")
RETRIED = (429, 500, 503)  # answers a handler is retried on
RETRY_FOR = 15.0  # seconds


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Scheduler:
    """Runs callables after a delay on one worker thread, in due order."""

    def __init__(self, stop):
        self._heap = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stop = stop
        self.thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self):
        self.thread.start()

    def call_later(self, delay, func, *args):
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._counter), func, args))
            self._cond.notify()

    def _run(self):
        while not self._stop.is_set():
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = 0.5 if not self._heap else max(0.0, self._heap[0][0] - time.monotonic())
                    self._cond.wait(min(timeout, 0.5))
                    if self._stop.is_set():
                        return
                _due, _n, func, args = heapq.heappop(self._heap)
            try:
                func(*args)
            except Exception:  # noqa: BLE001 - a stand-in bug must not stop the others
                LOG.exception("scheduled %s failed", getattr(func, "__name__", func))


class Watcher:
    """Lists, then watches one resource type on one cluster and hands every object to handler.

    Mirrors an informer: initial list, watch from its resourceVersion, relist on expiry, and a
    resync of the full list every `resync` seconds so missed edges converge.
    """

    def __init__(self, kube, api_version, plural, handler, lock, stop, resync=30):
        self.kube = kube
        self.api_version = api_version
        self.plural = plural
        self.handler = handler
        self.lock = lock
        self.stop = stop
        self.resync = resync
        self.synced = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="watch-%s-%s" % (kube.name, plural), daemon=True)

    def start(self):
        self.thread.start()

    def _dispatch(self, event, obj):
        """Hand the object to the handler; retried, as a controller's work queue requeues, while the apiserver
        answers 429/5xx (warming up after a restart or reset: "storage is (re)initializing")."""
        deadline = time.monotonic() + RETRY_FOR
        while True:
            with self.lock:
                try:
                    self.handler(event, obj)
                    return
                except KubeError as err:
                    if err.status not in RETRIED or time.monotonic() >= deadline or self.stop.is_set():
                        if err.status not in (404, 409):
                            LOG.warning("%s %s %s/%s: %s", self.kube.name, self.plural,
                                        obj["metadata"].get("namespace"), obj["metadata"]["name"], err)
                        return
                except Exception:  # noqa: BLE001
                    LOG.exception("%s: handler for %s failed", self.kube.name, self.plural)
                    return
            time.sleep(0.5)  # then again, without the lock

    def _run(self):
        while not self.stop.is_set():
            try:
                listing = self.kube.list(self.api_version, self.plural)
                for obj in listing.get("items", []):
                    self._dispatch("SYNC", obj)
                self.synced.set()
                version = listing["metadata"]["resourceVersion"]
                deadline = time.monotonic() + self.resync
                while not self.stop.is_set() and time.monotonic() < deadline:
                    for event, obj in self.kube.watch(self.api_version, self.plural, version,
                                                      timeout_seconds=max(5, int(deadline - time.monotonic()))):
                        if event == "ERROR":
                            raise KubeError(obj.get("code", 500), obj.get("message", "watch error"))
                        version = obj["metadata"]["resourceVersion"]
                        if event != "BOOKMARK":
                            self._dispatch(event, obj)
                        if self.stop.is_set():
                            return
            except Exception as err:  # noqa: BLE001 - apiserver restarts, resets, expiry
                if self.stop.is_set():
                    return
                LOG.info("%s: watch %s restarting: %s", self.kube.name, self.plural, err)
                time.sleep(0.5)
