"""The stand-ins' watch dispatch (tests/lab/standins/runtime.py): a handler is retried while the apiserver
answers 429/5xx, as a controller's work queue requeues, and given up on other errors."""

import os
import sys
import threading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab.kube import KubeError  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.standins import runtime  # noqa: E402  pylint: disable=wrong-import-position

OBJ = {"metadata": {"name": "redhat-operators", "namespace": "openshift-marketplace"}}


class Kube:
    name = "lab-prod"


def watcher(handler, stop=None):
    return runtime.Watcher(Kube(), "operators.coreos.com/v1alpha1", "catalogsources", handler, threading.RLock(),
                           stop or threading.Event())


def failing(statuses):
    """A handler that raises KubeError with each status in turn, then succeeds; records its calls."""
    calls = []

    def handler(event, obj):
        calls.append((event, obj["metadata"]["name"]))
        if len(calls) <= len(statuses):
            raise KubeError(statuses[len(calls) - 1], "storage is (re)initializing")
    return handler, calls


def test_warming_apiserver_answers_are_retried_until_the_handler_succeeds(monkeypatch):
    monkeypatch.setattr(runtime.time, "sleep", lambda _s: None)
    handler, calls = failing([429, 503, 500])
    watcher(handler)._dispatch("SYNC", OBJ)
    assert calls == [("SYNC", "redhat-operators")] * 4


def test_other_errors_are_not_retried(monkeypatch, caplog):
    monkeypatch.setattr(runtime.time, "sleep", lambda _s: None)
    handler, calls = failing([403])
    watcher(handler)._dispatch("ADDED", OBJ)
    assert len(calls) == 1
    assert "lab-prod catalogsources openshift-marketplace/redhat-operators" in caplog.text


def test_retries_end_at_the_deadline(monkeypatch, caplog):
    clock = iter(range(0, 1000, 5))  # five seconds pass between looks at the clock
    monkeypatch.setattr(runtime.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(runtime.time, "sleep", lambda _s: None)
    handler, calls = failing([429] * 100)
    watcher(handler)._dispatch("SYNC", OBJ)
    assert 1 < len(calls) <= runtime.RETRY_FOR / 5 + 1
    assert "storage is (re)initializing" in caplog.text


def test_a_stopping_stand_in_does_not_retry(monkeypatch):
    monkeypatch.setattr(runtime.time, "sleep", lambda _s: None)
    stop = threading.Event()
    stop.set()
    handler, calls = failing([429, 429])
    watcher(handler, stop)._dispatch("SYNC", OBJ)
    assert len(calls) == 1
