# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""posture_report and posture_html: the cross-cluster posture report (playbooks/report.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.devsecops.multicluster.plugins.module_utils.posture import build_report
from ansible_collections.devsecops.multicluster.plugins.module_utils.posture_html import render_html

FACT = "__report_gathered"
NOT_GATHERED = "no posture was gathered: the host failed before its posture could be read (see the play's output)"


def posture_report(hosts, hostvars, fact=FACT, thresholds=None, generated_at=None):
    """The report from what each host of the gathering play left in its `fact`."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("posture_report: the input must be the list of cluster hosts, got %s" % type(hosts).__name__)
    entries = []
    for host in hosts:
        host_vars = hostvars[host] if host in hostvars else {}
        gathered = host_vars.get(fact)
        if isinstance(gathered, dict) and gathered.get("name"):
            entries.append(dict(gathered))
        else:
            entries.append({"name": host, "groups": list(host_vars.get("group_names") or []), "posture": None,
                            "error": NOT_GATHERED})
    try:
        return build_report(entries, generated_at=generated_at, thresholds=thresholds)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise AnsibleFilterError("posture_report: the gathered posture of a cluster is not what cluster_posture "
                                 "returns (%s: %s)" % (type(err).__name__, err))


def posture_html(report, title="DevSecOps posture"):
    """The report as one self-contained HTML page."""
    try:
        return render_html(report, title=title)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise AnsibleFilterError("posture_html: the input is not a posture report from posture_report (%s: %s)"
                                 % (type(err).__name__, err))


class FilterModule(object):
    def filters(self):
        return {"posture_report": posture_report, "posture_html": posture_html}
