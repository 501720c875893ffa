"""An in-memory stand-in for module_utils.cluster.Cluster, for unit tests only."""

import copy

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
