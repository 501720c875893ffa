# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""namespace_objects: Namespace objects labelled as the collection's, for one devsecops.multicluster.resource call.
satisfies: whether an API object already meets a readiness condition (the JMESPath of resource_ready).
components_stage: the components of a profile that need the hub's Quay or Central, or the others."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import compile_expression, evaluate, truthy

# The label every object the collection creates carries (module_utils/cluster.py managed_labels()).
MANAGED_BY = {"app.kubernetes.io/managed-by": "devsecops.multicluster"}


def namespace_objects(names, labels=None):
    """One Namespace object per distinct name, in the order given, labelled as the collection's (plus `labels`)."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise AnsibleFilterError("namespace_objects: expected a list of namespace names, got %r" % (names,))
    if labels is not None and not isinstance(labels, dict):
        raise AnsibleFilterError("namespace_objects: labels must be a dict, got %r" % (labels,))
    objects, seen = [], set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise AnsibleFilterError("namespace_objects: %r is not a namespace name" % (name,))
        if name in seen:
            continue
        seen.add(name)
        merged = dict(MANAGED_BY)
        merged.update(labels or {})
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": merged}})
    return objects


def satisfies(obj, condition):
    """True when `obj` (an API object as the cluster returned it) meets `condition`, a JMESPath expression
    read as devsecops.multicluster.resource_ready reads it; False for no object."""
    try:
        compiled = compile_expression(condition)
    except ValueError as err:
        raise AnsibleFilterError("satisfies: %s" % err)
    if not isinstance(obj, dict) or not obj:
        return False
    return truthy(evaluate(compiled, obj))


# The component roles that read what the hub's converge leaves there: its Quay or ACS Central (through the
# hub_lookup role), or the signing public keys the chains role publishes on it (kyverno's image verification).
# On a spoke they run once the hub and the other spokes' own components are converged; every other component
# needs nothing from the hub (chains only writes its key pair's record there).
HUB_DEPENDENT = frozenset(("quay_bridge", "quay_pull_secrets", "acs_secured_cluster", "devsecops_pipeline", "kyverno"))
STAGES = ("all", "own", "hub_dependent")


def components_stage(components, stage="all"):
    """The components of `stage`, in the order given: all of them, those that need nothing from the hub
    (own), or those that read the hub's Quay, Central or published signing keys (hub_dependent)."""
    if isinstance(components, (str, bytes)) or not hasattr(components, "__iter__"):
        raise AnsibleFilterError("components_stage: expected a list of component names, got %r" % (components,))
    if stage not in STAGES:
        raise AnsibleFilterError("components_stage: stage must be one of %s, got %r" % (", ".join(STAGES), stage))
    components = list(components)
    for name in components:
        if not isinstance(name, str) or not name:
            raise AnsibleFilterError("components_stage: %r is not a component name" % (name,))
    if stage == "all":
        return components
    return [name for name in components if (name in HUB_DEPENDENT) == (stage == "hub_dependent")]


class FilterModule(object):
    def filters(self):
        return {"namespace_objects": namespace_objects, "satisfies": satisfies, "components_stage": components_stage}
