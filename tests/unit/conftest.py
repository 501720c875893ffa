"""Unit tests import the collection as ansible_collections.devsecops.multicluster."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, "build", "collections")
SELF = os.path.join(COLLECTIONS, "ansible_collections", "devsecops", "multicluster")
if not os.path.islink(SELF) and not os.path.isdir(SELF):
    os.makedirs(os.path.dirname(SELF), exist_ok=True)
    os.symlink(REPO, SELF)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


import pytest  # noqa: E402
from ansible.module_utils import basic  # noqa: E402

from fakes import Exit, Fail  # noqa: E402


@pytest.fixture
def module_io(monkeypatch):
    results = {}

    def exit_json(self, **kwargs):
        results.update(kwargs)
        raise Exit()

    def fail_json(self, **kwargs):
        results.update(kwargs)
        raise Fail(kwargs.get("msg"))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    return results
