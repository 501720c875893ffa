# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copying a Secret between clusters, optionally rendered into a consumer's format.

Secret values travel from one API server to another inside the module: they are never
returned, and the diff shows each key with a fingerprint (hash prefix) instead of its value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError, managed_labels
from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import fingerprint

FORMATS = ("copy", "argocd-cluster", "kubeconfig")
# Keys whose values are addresses or names, not secrets: left readable in output.
PUBLIC_KEYS = ("server", "cluster", "name", "autoImportRetry")


def _decode(data):
    return dict((k, base64.b64decode(v or "").decode("utf-8")) for k, v in (data or {}).items())


def _encode(data):
    return dict((k, base64.b64encode(v.encode("utf-8")).decode("ascii")) for k, v in data.items())


def render(source, fmt, keys=None, name=None):
    """Destination data (plain text) from source data (plain text)."""
    if fmt == "copy":
        if keys:
            missing = [src for src in keys.values() if src not in source]
            if missing:
                raise ValueError("the source Secret has no key(s) %s (it has: %s)"
                                 % (", ".join(sorted(missing)), ", ".join(sorted(source)) or "none"))
            return dict((dest, source[src]) for dest, src in keys.items())
        return dict(source)
    for needed in ("server", "token"):
        if not source.get(needed):
            raise ValueError("format %s needs the keys server and token in the source Secret" % fmt)
    ca = source.get("ca.crt", "")
    if fmt == "argocd-cluster":
        tls = {"insecure": False}
        if ca:
            tls["caData"] = base64.b64encode(ca.encode("utf-8")).decode("ascii")
        return {"name": name or source.get("cluster") or source["server"], "server": source["server"],
                "config": json.dumps({"bearerToken": source["token"], "tlsClientConfig": tls}, sort_keys=True)}
    cluster = name or source.get("cluster") or "cluster"
    entry = {"server": source["server"]}
    if ca:
        entry["certificate-authority-data"] = base64.b64encode(ca.encode("utf-8")).decode("ascii")
    config = {"apiVersion": "v1", "kind": "Config", "current-context": cluster,
              "clusters": [{"name": cluster, "cluster": entry}],
              "users": [{"name": cluster, "user": {"token": source["token"]}}],
              "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}]}
    return {"kubeconfig": json.dumps(config, sort_keys=True)}


def summary(data):
    """What a diff may show of Secret data: keys and fingerprints."""
    return dict((k, "sha256:%s" % fingerprint(v)) for k, v in sorted((data or {}).items()))


class SecretSync(object):
    def __init__(self, source_cluster, dest_cluster, params, check_mode=False):
        self.source = source_cluster
        self.dest = dest_cluster
        self.params = params
        self.check_mode = check_mode
        self.changed = False
        self.actions = []
        self.secret_values = []
        self.before = None
        self.after = None

    def _dest_ref(self):
        return (self.params.get("name") or self.params["source_name"],
                self.params.get("namespace") or self.params["source_namespace"])

    def present(self):
        p = self.params
        source = self.source.get("v1", "Secret", p["source_name"], p["source_namespace"])
        if source is None:
            raise ClusterError("cluster %s: source Secret %s/%s does not exist" % (
                self.source.name, p["source_namespace"], p["source_name"]))
        plain = _decode(source.get("data"))
        self.secret_values.extend(v for k, v in plain.items() if k not in PUBLIC_KEYS and len(v) >= 6)
        try:
            data = render(plain, p.get("format") or "copy", p.get("keys"), p.get("cluster_name"))
        except ValueError as err:
            where = "%s/%s" % (p["source_namespace"], p["source_name"])
            raise ClusterError("cluster %s: Secret %s: %s" % (self.source.name, where, err))
        self.secret_values.extend(v for k, v in data.items() if k not in PUBLIC_KEYS and len(v) >= 6)
        for key, value in (p.get("string_data") or {}).items():
            data[key] = str(value)
        name, namespace = self._dest_ref()
        labels = managed_labels(p.get("labels"))
        if p.get("format") == "argocd-cluster":
            labels["argocd.argoproj.io/secret-type"] = "cluster"
        secret_type = p.get("type") or (source.get("type") if (p.get("format") or "copy") == "copy" else None) or "Opaque"
        current = self.dest.get("v1", "Secret", name, namespace)
        self.after = {"type": secret_type, "labels": labels, "data": summary(data)}
        if current is None:
            self.before = None
            self._write("create", name, namespace, {
                "apiVersion": "v1", "kind": "Secret", "type": secret_type,
                "metadata": {"name": name, "namespace": namespace, "labels": labels,
                             "annotations": p.get("annotations") or {}},
                "data": _encode(data)})
            return self._result(name, namespace)
        have = _decode(current.get("data"))
        have_labels = current["metadata"].get("labels") or {}
        self.before = {"type": current.get("type"), "labels": dict((k, have_labels.get(k)) for k in labels),
                       "data": summary(have)}
        if current.get("type") != secret_type:
            raise ClusterError("cluster %s: Secret %s/%s exists with type %s, not %s; Kubernetes cannot change a "
                               "Secret's type - delete it or choose another name"
                               % (self.dest.name, namespace, name, current.get("type"), secret_type))
        patch = {}
        if have != data:
            patch["data"] = dict(_encode(data), **dict((k, None) for k in have if k not in data))
        if any(have_labels.get(k) != v for k, v in labels.items()):
            patch.setdefault("metadata", {})["labels"] = labels
        annotations = p.get("annotations") or {}
        have_annotations = current["metadata"].get("annotations") or {}
        if any(have_annotations.get(k) != v for k, v in annotations.items()):
            patch.setdefault("metadata", {})["annotations"] = annotations
        if patch:
            self._write("update", name, namespace, patch)
        return self._result(name, namespace)

    def _write(self, verb, name, namespace, body):
        self.changed = True
        self.actions.append("%s Secret %s/%s on %s" % (verb, namespace, name, self.dest.name))
        if self.check_mode:
            return
        if verb == "create":
            if self.dest.get("v1", "Namespace", namespace) is None:
                self.dest.create("v1", "Namespace", {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": namespace, "labels": managed_labels()}})
            self.dest.create("v1", "Secret", body, namespace)
        else:
            self.dest.patch("v1", "Secret", name, body, namespace)

    def _result(self, name, namespace):
        return {"secret": "%s/%s" % (namespace, name), "cluster": self.dest.name,
                "keys": sorted((self.after or {}).get("data", {}))}

    def absent(self):
        name, namespace = self._dest_ref()
        current = self.dest.get("v1", "Secret", name, namespace)
        if current is not None:
            self.before = {"type": current.get("type"), "data": summary(_decode(current.get("data")))}
            self.changed = True
            self.actions.append("delete Secret %s/%s on %s" % (namespace, name, self.dest.name))
            if not self.check_mode:
                self.dest.delete("v1", "Secret", name, namespace)
        return {"secret": "%s/%s" % (namespace, name), "cluster": self.dest.name, "keys": []}
