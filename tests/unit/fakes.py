"""An in-memory stand-in for module_utils.cluster.Cluster, for unit tests only."""

import base64
import copy
import json

import yaml

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError

NAMESPACED = {"Subscription", "OperatorGroup", "ClusterServiceVersion", "InstallPlan", "CatalogSource",
              "ConfigMap", "Secret", "MultiClusterHub"}


class FakeCluster:
    """Objects keyed by (kind, namespace, name); records every write in `writes`.

    `on_get` hooks let a test change the world between reads (an operator progressing).
    `served` limits which kinds discovery knows, to exercise missing-CRD paths.
    """

    def __init__(self, name="hub", served=None):
        self.name = name
        self.objects = {}
        self.writes = []
        self.on_get = []
        self.served = served
        self.reads = 0

    def add(self, obj):
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = copy.deepcopy(obj)
        return obj

    def find(self, kind, name, namespace=None):
        return self.objects.get((kind, namespace, name))

    def resource(self, api_version, kind):
        if self.served is not None and kind not in self.served:
            raise ClusterError("cluster %s: the API server does not serve %s (%s)" % (self.name, kind, api_version))
        return kind

    def get(self, api_version, kind, name, namespace=None):
        self.resource(api_version, kind)
        self.reads += 1
        for hook in list(self.on_get):
            hook(self, kind, name, namespace)
        obj = self.objects.get((kind, namespace, name))
        return copy.deepcopy(obj)

    def list(self, api_version, kind, namespace=None, label_selector=None):
        self.resource(api_version, kind)
        items = []
        for (k, ns, _n), obj in sorted(self.objects.items(), key=lambda kv: str(kv[0])):
            if k != kind or (namespace and ns != namespace):
                continue
            if label_selector:
                key = label_selector.split("=")[0]
                if key not in obj["metadata"].get("labels", {}):
                    continue
            items.append(copy.deepcopy(obj))
        return items

    def create(self, api_version, kind, body, namespace=None):
        self.resource(api_version, kind)
        body = copy.deepcopy(body)
        body.setdefault("kind", kind)
        if namespace:
            body["metadata"]["namespace"] = namespace
        key = (kind, namespace, body["metadata"]["name"])
        if key in self.objects:
            raise ClusterError("cluster %s: conflict (HTTP 409) on %s" % (self.name, key))
        self.objects[key] = body
        self.writes.append(("create", kind, namespace, body["metadata"]["name"]))
        return copy.deepcopy(body)

    def patch(self, api_version, kind, name, patch, namespace=None, content_type=None):
        key = (kind, namespace, name)
        if key not in self.objects:
            raise ClusterError("cluster %s: %s not found (HTTP 404)" % (self.name, key))
        _merge(self.objects[key], patch)
        self.writes.append(("patch", kind, namespace, name))
        return copy.deepcopy(self.objects[key])

    def delete(self, api_version, kind, name, namespace=None):
        self.writes.append(("delete", kind, namespace, name))
        return self.objects.pop((kind, namespace, name), None) is not None


def _merge(target, patch):
    """JSON merge patch (RFC 7386)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def crd(name, established=True):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "status": {"conditions": [{"type": "Established", "status": "True" if established else "False"}]}}


def catalog(cluster, name="redhat-operators", namespace="openshift-marketplace"):
    cluster.add({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
                 "metadata": {"name": name, "namespace": namespace}, "spec": {"sourceType": "grpc"}})


class FakeClock:
    """A monotonic clock that only moves when sleep() is called."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


FUTURE = "2099-01-01T00:00:00Z"


def _b64(text):
    return base64.b64encode(text.encode()).decode()


class FakeCentral:
    """Central's cluster-init and token services in memory, healthy clusters on demand."""

    endpoint = "https://central.example:443"

    def __init__(self, crs=True):
        self.crs = crs
        self.bundles = {}
        self.registrations = {}
        self.tokens = {}
        self.clusters = {}
        self.counter = 0
        self.calls = []
        self.secret_values = []

    def _id(self):
        self.counter += 1
        return "id-%d" % self.counter

    def crs_listing(self):
        self.calls.append(("list", "crs"))
        return self.list_crs() if self.crs else None

    def init_bundles(self):
        self.calls.append(("list", "init-bundle"))
        return [dict(m) for m in self.bundles.values() if not m.get("revoked")]

    def list_crs(self):
        return [dict(m) for m in self.registrations.values() if not m.get("revoked")]

    def _material(self, store, name, kind):
        if any(m["name"] == name for m in store.values() if not m.get("revoked")):
            raise AssertionError("duplicate name %s" % name)
        meta = {"id": self._id(), "name": name, "createdAt": "2026-01-01T00:00:00Z", "expiresAt": FUTURE,
                "impactedClusters": []}
        store[meta["id"]] = meta
        self.calls.append(("generate", kind, name))
        return meta

    def generate_init_bundle(self, name):
        meta = self._material(self.bundles, name, "init-bundle")
        docs = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": n, "annotations": {
            "init-bundle.stackrox.io/id": meta["id"]}}, "stringData": {"ca.pem": "CA", "key.pem": "KEY-%s-%s" % (
                n, meta["id"])}} for n in ("sensor-tls", "collector-tls", "admission-control-tls")]
        return {"meta": meta, "kubectlBundle": _b64(yaml.safe_dump_all(docs))}

    def generate_crs(self, name, valid_for_seconds=None, max_registrations=None):
        meta = self._material(self.registrations, name, "crs")
        doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cluster-registration-secret"},
               "data": {"crs": _b64(_b64(json.dumps({"version": 1, "cert": "C", "key": "K-" + meta["id"]})))}}
        return {"meta": meta, "crs": _b64(yaml.safe_dump(doc))}

    def revoke_crs(self, ids):
        for i in ids:
            self.registrations[i]["revoked"] = True
        self.calls.append(("revoke", "crs", tuple(ids)))
        return {"revokedIds": list(ids)}

    def revoke_init_bundles(self, ids, confirm):
        errors = []
        for i in ids:
            impacted = set(c["id"] for c in self.bundles[i]["impactedClusters"])
            if not impacted <= set(confirm):
                errors.append({"id": i, "error": "not confirmed"})
            else:
                self.bundles[i]["revoked"] = True
        self.calls.append(("revoke", "init-bundle", tuple(ids), tuple(confirm)))
        return {"initBundleRevocationErrors": errors}

    def find_cluster(self, name):
        return self.clusters.get(name)

    def delete_cluster(self, cluster_id):
        self.calls.append(("delete-cluster", cluster_id))
        self.clusters = dict((k, v) for k, v in self.clusters.items() if v["id"] != cluster_id)

    def healthy(self, name, contact="2099-01-01T00:00:00Z"):
        self.clusters[name] = {"id": "c-" + name, "name": name, "healthStatus": {
            "overallHealthStatus": "HEALTHY", "lastContact": contact}}

    # tokens
    def api_token(self, token_id):
        return dict(self.tokens[token_id]["meta"]) if token_id in self.tokens else None

    def api_tokens(self, revoked=False):
        return [dict(t["meta"]) for t in self.tokens.values() if bool(t["meta"]["revoked"]) == revoked]

    def generate_token(self, name, roles, expiration=None):
        token_id = self._id()
        value = "token-value-%s" % token_id
        self.tokens[token_id] = {"value": value, "meta": {"id": token_id, "name": name, "roles": list(roles),
                                                          "expiration": FUTURE, "revoked": False}}
        self.calls.append(("generate-token", name))
        return {"token": value, "metadata": dict(self.tokens[token_id]["meta"])}

    def revoke_token(self, token_id):
        self.tokens[token_id]["meta"]["revoked"] = True
        self.calls.append(("revoke-token", token_id))
        return True

    def token_status(self, token):
        return {} if any(t["value"] == token and not t["meta"]["revoked"] for t in self.tokens.values()) else None


class Exit(Exception):
    pass


class Fail(Exception):
    pass


def use_fake(monkeypatch, module, fake):
    class Bound:
        def __init__(self, ansible_module):
            fake.name = ansible_module.params.get("cluster_name") or fake.name

        def __getattr__(self, item):
            return getattr(fake, item)

    monkeypatch.setattr(module, "Cluster", Bound)
