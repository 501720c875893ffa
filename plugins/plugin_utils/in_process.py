# Copyright (c) devsecops.multicluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run this collection's modules in a fork of Ansible's worker process instead of a new Python.

Every module of the collection talks to Kubernetes and product APIs from the controller (local
connection). Started the usual way, each task is a new Python process that imports the
``kubernetes`` client and Ansible's module_utils again: about a second of CPU before the first
request. The action plugin of each module (``plugins/action/<module>.py``) is this class. The
controller imports it, and with it the libraries every module needs, once per playbook run; each
task then runs the module's ``main()`` in ``os.fork()`` of its worker process, which has them already.

The module sees what it would see in a process of its own: the same arguments (module_defaults,
check and diff mode, no_log and the other internal options built by ansible-core), the task's
``environment``, a private stdout and stderr, and its exit status. Its result is parsed by
ansible-core's own code, as for any module. A fork per task keeps one task's state (module globals,
environment, exit) out of the worker and out of the next task.

The module runs the usual way (a new process with the host's interpreter) whenever the shortcut
would not be the same thing: a connection other than local, ``become``, ``async``, a
``ansible_python_interpreter`` other than the controller's own Python, a controller without the
``kubernetes`` library, ansible-core before 2.19, a platform without ``fork``, or the host variable
``devsecops_in_process_modules: false``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import gc
import importlib
import io
import json
import os
import signal
import sys
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

try:
    # ansible-core 2.19 and later: module arguments and results go through a serialization profile.
    from ansible.module_utils.common.json import Direction, get_module_encoder
    HAS_PROFILES = True
except ImportError:
    HAS_PROFILES = False

# Imported here, once, by the controller: every forked worker inherits them.
PRELOAD = (
    "kubernetes.client",
    "kubernetes.dynamic",
    "ansible_collections.kubernetes.core.plugins.module_utils.k8s.client",
    "ansible_collections.kubernetes.core.plugins.module_utils.k8s.core",
    "ansible_collections.kubernetes.core.plugins.module_utils.k8s.runner",
    "ansible_collections.kubernetes.core.plugins.module_utils.k8s.service",
    "ansible_collections.devsecops.multicluster.plugins.module_utils.cluster",
    "ansible_collections.devsecops.multicluster.plugins.module_utils.credentials",
    "ansible_collections.devsecops.multicluster.plugins.module_utils.product",
    "ansible_collections.devsecops.multicluster.plugins.module_utils.rest",
    "ansible_collections.devsecops.multicluster.plugins.module_utils.waiting",
)


def _preload():
    try:
        for name in PRELOAD:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


HAS_LIBRARIES = HAS_PROFILES and _preload()
display = Display()

# The collection's modules declare no serialization metadata: ansible-core's default profile.
PROFILE = "legacy"
LOCAL = ("local", "ansible.builtin.local", "ansible.legacy.local")
SWITCH = "devsecops_in_process_modules"


def run_module_main(python_module, module_args, profile=PROFILE, environment=None):
    """Runs python_module's main() with module_args as AnsibleModule's input, in this process.

    Returns {"stdout", "stderr", "rc"} as a module process would have produced them. Meant to run in a
    child process: it sets the process's module arguments, environment and standard streams."""
    if environment:
        os.environ.update(environment)
    encoded = json.dumps({"ANSIBLE_MODULE_ARGS": module_args},
                         cls=get_module_encoder(profile, Direction.CONTROLLER_TO_MODULE))
    basic._ANSIBLE_ARGS = encoded.encode("utf-8")  # pylint: disable=protected-access
    basic._ANSIBLE_PROFILE = profile  # pylint: disable=protected-access
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    rc = 0
    try:
        importlib.import_module(python_module).main()
    except SystemExit as exit_:
        rc = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # pylint: disable=broad-except  # a module crash, reported as a module process would
        stderr.write(traceback.format_exc())
        rc = 1
    finally:
        sys.stdout, sys.stderr = saved
    return {"stdout": stdout.getvalue(), "stderr": stderr.getvalue(), "rc": rc}


def run_in_fork(function, *args, **kwargs):
    """function(*args, **kwargs) in a child process; its JSON-serializable return value, read back over a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        # What the child inherited stays out of its garbage collections: a collection would otherwise touch
        # every inherited object and copy the worker's whole heap, page by page, into the child.
        gc.freeze()
        status = 0
        try:
            os.close(read_end)
            data = json.dumps(function(*args, **kwargs)).encode("utf-8")
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
        except BaseException:  # pylint: disable=broad-except
            status = 70
        finally:
            os._exit(status)  # pylint: disable=protected-access
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    except BaseException:  # the task's timeout, an interrupt: the module's process goes with the task
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _pid, status = os.waitpid(pid, 0)
    if not data:
        return {"stdout": "", "stderr": "the module's process ended with status %s and no result" % status, "rc": 1}
    return json.loads(data.decode("utf-8"))


class InProcessModuleAction(ActionBase):
    """The action plugin of every module of this collection: the module in a fork of the worker, when
    that is the same as running it in a process of its own (see the module docstring)."""

    # As ansible-core's own action for modules: the module decides about check mode; async runs the usual way.
    _supports_check_mode = True
    _supports_async = True

    def in_process(self, task_vars):
        """Whether this task's module can run in a fork of the worker; the reason when it cannot."""
        if not HAS_LIBRARIES:
            return False, "ansible-core before 2.19, or the controller's Python lacks the kubernetes library"
        if not hasattr(os, "fork"):
            return False, "no os.fork on this platform"
        switch = task_vars.get(SWITCH, True)
        if not boolean(self._templar.template(switch) if isinstance(switch, str) else switch, strict=False):
            return False, "%s is false" % SWITCH
        if getattr(self._connection, "transport", None) not in LOCAL and \
                getattr(self._connection, "_load_name", None) not in LOCAL:
            return False, "the connection is not local"
        if self._play_context.become or self._task.async_val:
            return False, "become or async"
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = to_text(self._templar.template(interpreter))
            if os.path.realpath(interpreter) != os.path.realpath(sys.executable):
                return False, "ansible_python_interpreter is not the controller's Python"
        return True, None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(InProcessModuleAction, self).run(tmp, task_vars)
        del tmp
        module_name = self._task.resolved_action or self._task.action
        eligible, reason = self.in_process(task_vars)
        if not eligible:
            display.vvv("%s: a process of its own (%s)" % (module_name, reason), host=self._play_context.remote_addr)
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result = merge_hash(result, self._execute_module(module_name=module_name, task_vars=task_vars,
                                                             wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
            return result

        module_args = copy.deepcopy(dict(self._task.args))
        self._update_module_args(module_name, module_args, task_vars)
        environment = {}
        self._compute_environment_string(environment)
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        self._used_interpreter = sys.executable
        raw = run_in_fork(run_module_main, context.plugin_resolved_name, module_args, PROFILE,
                          {k: to_text(v) for k, v in environment.items()})
        data = self._parse_returned_data(raw, PROFILE)
        data.pop("_ansible_suppress_tmpdir_delete", None)
        remove_internal_keys(data)
        return merge_hash(result, data)
