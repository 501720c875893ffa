"""The in-process module runner: a module's main() in a fork, its output parsed as ansible-core parses a
module process's, and the fallback to a process of its own whenever the shortcut would differ."""

import gc
import json
import os
import sys
from unittest import mock

import pytest

from ansible.playbook.play_context import PlayContext
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader

from ansible_collections.devsecops.multicluster.plugins.plugin_utils import in_process
from ansible_collections.devsecops.multicluster.plugins.plugin_utils.in_process import (
    InProcessModuleAction, run_in_fork, run_module_main)

FAKE = "inprocess_fake"


def args(**options):
    options.setdefault("_ansible_check_mode", False)
    options.setdefault("_ansible_no_log", False)
    return options


def result_of(raw):
    return json.loads(raw["stdout"])


def test_main_runs_with_the_arguments_and_reports_rc_0():
    raw = run_in_fork(run_module_main, FAKE, args(mode="echo", token="s3cr3t-t0ken", _ansible_check_mode=True))
    assert raw["rc"] == 0, raw
    result = result_of(raw)
    assert result["check_mode"] is True and result["changed"] is False
    assert result["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "no_log values are masked by the module, as in a process of its own"
    assert result["invocation"]["module_args"]["mode"] == "echo"


def test_fail_json_is_rc_1_with_the_message():
    raw = run_in_fork(run_module_main, FAKE, args(mode="fail"))
    assert raw["rc"] == 1
    assert result_of(raw)["msg"] == "cluster lab-x: the object said no"


def test_a_crash_is_rc_1_with_the_traceback_on_stderr():
    raw = run_in_fork(run_module_main, FAKE, args(mode="crash"))
    assert raw["rc"] == 1 and raw["stdout"] == ""
    assert "RuntimeError: a bug" in raw["stderr"]


def test_the_task_environment_reaches_the_module_and_stays_in_the_fork():
    raw = run_in_fork(run_module_main, FAKE, args(variable="DEVSECOPS_TEST_VALUE"), environment={
        "DEVSECOPS_TEST_VALUE": "from-the-task"})
    assert result_of(raw)["value"] == "from-the-task"
    assert "DEVSECOPS_TEST_VALUE" not in os.environ


def test_the_callers_streams_and_arguments_are_untouched():
    stdout = sys.stdout
    run_in_fork(run_module_main, FAKE, args(mode="print"))
    assert sys.stdout is stdout
    from ansible.module_utils import basic
    assert basic._ANSIBLE_ARGS is None  # pylint: disable=protected-access


def _frozen_objects():
    return gc.get_freeze_count()


def test_the_child_keeps_what_it_inherited_out_of_its_garbage_collections():
    """Collections in the child skip the worker's objects (no copy of the worker's heap page by page); the
    worker's own garbage collector is left as it was."""
    frozen_before = gc.get_freeze_count()
    assert run_in_fork(_frozen_objects) > 0
    assert gc.get_freeze_count() == frozen_before
    assert gc.isenabled()


def test_a_child_that_dies_without_a_result_is_reported():
    def die():
        os._exit(3)  # pylint: disable=protected-access
    raw = run_in_fork(die)
    assert raw["rc"] == 1 and "no result" in raw["stderr"]


def test_an_unknown_module_is_a_module_failure():
    raw = run_in_fork(run_module_main, "no_such_module_anywhere", args())
    assert raw["rc"] == 1 and "ModuleNotFoundError" in raw["stderr"]


def make_action(transport="local", become=False, async_val=0, task_args=None, environment=None):
    task = mock.MagicMock()
    task.async_val = async_val
    task.check_mode = False
    task.no_log = False
    task.diff = False
    task.environment = environment or []
    task.action = "devsecops.multicluster.fake"
    task.resolved_action = "devsecops.multicluster.fake"
    task.collections = []
    task.args = dict(task_args or {"mode": "echo"})
    connection = mock.MagicMock()
    connection.transport = transport
    connection._load_name = transport  # pylint: disable=protected-access
    connection.socket_path = None
    connection._shell.tmpdir = None  # pylint: disable=protected-access
    connection._shell.get_option.return_value = "~/.ansible/tmp"  # pylint: disable=protected-access
    connection._shell.env = {}  # pylint: disable=protected-access
    connection.has_native_async = False
    connection.become = None
    play_context = PlayContext()
    play_context.become = become
    loader = DataLoader()
    shared = mock.MagicMock()
    shared.module_loader.find_plugin_with_context.return_value = mock.Mock(plugin_resolved_name=FAKE)
    action = InProcessModuleAction(task, connection, play_context, loader, Templar(loader=loader), shared)
    action._shared_loader_obj = shared  # pylint: disable=protected-access  # ansible-core 2.19 ignores the argument
    return action


@pytest.mark.parametrize("kwargs, task_vars, reason", [
    ({"transport": "ssh"}, {}, "the connection is not local"),
    ({"become": True}, {}, "become or async"),
    ({"async_val": 30}, {}, "become or async"),
    ({}, {"ansible_python_interpreter": "/usr/bin/python2"}, "ansible_python_interpreter is not the controller's Python"),
    ({}, {"devsecops_in_process_modules": False}, "devsecops_in_process_modules is false"),
    ({}, {"devsecops_in_process_modules": "no"}, "devsecops_in_process_modules is false"),
])
def test_falls_back_to_a_process_of_its_own(kwargs, task_vars, reason):
    action = make_action(**kwargs)
    assert action.in_process(task_vars) == (False, reason)
    with mock.patch.object(action, "_execute_module", return_value={"changed": True, "ran": "subprocess"}) as run:
        result = action.run(task_vars=task_vars)
    assert result["ran"] == "subprocess"
    run.assert_called_once_with(module_name="devsecops.multicluster.fake", task_vars=task_vars,
                                wrap_async=bool(kwargs.get("async_val")))


def test_eligible_with_the_controllers_own_interpreter():
    action = make_action()
    assert action.in_process({"ansible_python_interpreter": sys.executable}) == (True, None)
    assert action.in_process({}) == (True, None)


def test_without_the_libraries_it_falls_back(monkeypatch):
    monkeypatch.setattr(in_process, "HAS_LIBRARIES", False)
    eligible, reason = make_action().in_process({})
    assert not eligible and "kubernetes library" in reason


def test_run_in_process_returns_the_modules_result_like_ansible_core():
    action = make_action(task_args={"mode": "echo", "token": "another-s3cr3t", "variable": "DEVSECOPS_FROM_TASK"},
                         environment=[{"DEVSECOPS_FROM_TASK": "set-by-environment-keyword"}])
    with mock.patch.object(action, "_execute_module") as subprocess_run:
        result = action.run(task_vars={})
    subprocess_run.assert_not_called()
    assert result["changed"] is True and result["check_mode"] is False
    assert result["value"] == "set-by-environment-keyword"
    assert result["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert not [key for key in result if key.startswith("_ansible_") and key != "_ansible_parsed"]


def test_run_in_process_reports_a_failure_and_a_crash():
    failed = make_action(task_args={"mode": "fail"}).run(task_vars={})
    assert failed["failed"] is True and failed["msg"] == "cluster lab-x: the object said no"
    crashed = make_action(task_args={"mode": "crash"}).run(task_vars={})
    assert crashed["failed"] is True
    assert "RuntimeError: a bug" in crashed["module_stderr"]


def test_a_task_timeout_kills_the_modules_process(monkeypatch):
    """The worker's wait for the result is interrupted (ansible-core's task timeout is an alarm in the
    worker): the module's process is killed with it, not left behind."""
    import signal
    import time

    def slow():
        time.sleep(30)
        return {}

    class Timeout(Exception):
        pass

    def on_alarm(_signum, _frame):
        raise Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    killed = []
    real_kill = os.kill
    monkeypatch.setattr(os, "kill", lambda pid, sig: (killed.append(pid), real_kill(pid, sig)))
    signal.alarm(1)
    started = time.monotonic()
    try:
        with pytest.raises(Timeout):
            run_in_fork(slow)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 10
    assert len(killed) == 1
    with pytest.raises(ProcessLookupError):
        real_kill(killed[0], 0)
