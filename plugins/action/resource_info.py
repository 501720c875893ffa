# Copyright (c) devsecops.multicluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resource_info module, run in a fork of Ansible's worker process when that is the same as a process of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devsecops.multicluster.plugins.plugin_utils.in_process import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    pass
