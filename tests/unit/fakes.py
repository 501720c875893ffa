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
    `served` limits which kinds discovery knows, to exercise missing-CRD paths; `forbidden` lists
    kinds whose reads are refused (HTTP 403).
    """

    def __init__(self, name="hub", served=None, forbidden=()):
        self.name = name
        self.objects = {}
        self.writes = []
        self.on_get = []
        self.served = served
        self.forbidden = set(forbidden)
        self.reads = 0
        self.listed = []

    def add(self, obj):
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = copy.deepcopy(obj)
        return obj

    def find(self, kind, name, namespace=None):
        return self.objects.get((kind, namespace, name))

    def resource(self, api_version, kind):
        if self.served is not None and kind not in self.served:
            raise ClusterError("cluster %s: the API server does not serve %s (%s)" % (self.name, kind, api_version),
                               details={"served": False})
        return kind

    def _refuse(self, kind):
        if kind in self.forbidden:
            raise ClusterError("cluster %s: permission denied (HTTP 403) on %s list: %s is forbidden" % (
                self.name, kind, kind.lower()), details={"status": 403})

    def get(self, api_version, kind, name, namespace=None):
        self.resource(api_version, kind)
        self._refuse(kind)
        self.reads += 1
        for hook in list(self.on_get):
            hook(self, kind, name, namespace)
        obj = self.objects.get((kind, namespace, name))
        return copy.deepcopy(obj)

    def list(self, api_version, kind, namespace=None, label_selector=None):
        self.resource(api_version, kind)
        self._refuse(kind)
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

    def iterate(self, api_version, kind, namespace=None, label_selector=None, page_size=100, metadata_only=False):
        """Like Cluster.iterate; metadata_only strips everything but metadata, as the API server does."""
        self._refuse(kind)
        self.listed.append((kind, namespace, label_selector, metadata_only))
        for obj in self.list(api_version, kind, namespace=namespace, label_selector=label_selector):
            if metadata_only:
                obj = {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": obj["metadata"]}
            yield obj

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


class FakeQuay:
    """Quay's organizations, applications, application tokens, repositories and robots in memory.

    Follows the client surface of module_utils/quay.py; `refuse` lists tokens Quay no longer accepts.
    """

    endpoint = "https://quay.example:443"
    hostname = "quay.example"

    def __init__(self, initialize="ok"):
        self.initialize_mode = initialize  # ok | disabled | non-empty
        self.users = {}
        self.orgs = {}
        self.tokens = {}
        self.robots = {}
        self.permissions = {}
        self.counter = 0
        self.calls = []
        self.secret_values = []
        self.given = []
        self.token = None
        self.rest = type("Rest", (), {"headers": {}})()

    def _id(self, prefix):
        self.counter += 1
        return "%s-%d" % (prefix, self.counter)

    # -- tokens and users
    def _user_of(self, token):
        for user, info in self.users.items():
            if info.get("token") == token:
                return user
        meta = next((t for t in self.tokens.values() if t["token"] == token), None)
        return meta and meta["created_by"]

    def token_user(self, token):
        user = self._user_of(token)
        if user is None:
            return None
        return {"username": user, "super_user": self.users.get(user, {}).get("super", False)}

    def has_credentials(self):
        return bool(self.given)

    def authenticate(self):
        from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
        for token in self.given:
            info = self.token_user(token)
            if info is not None:
                self.use_token(token, "the token given", info)
                return info
        raise RestError("Quay %s: authentication failed: the token given was refused (HTTP 401)" % self.endpoint, 401)

    def use_token(self, token, source, info=None):
        self.token = token

    def initialize(self, username, password, email):
        from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
        self.calls.append(("initialize", username))
        if self.initialize_mode == "disabled":
            raise RestError("Quay: POST /api/v1/user/initialize: HTTP 404: Not Found", 404)
        if self.initialize_mode == "non-empty" or self.users:
            raise RestError("Quay: POST /api/v1/user/initialize: HTTP 400: Cannot initialize user in a non-empty "
                            "database", 400)
        token = "admin-token-%s" % self._id("t")
        self.users[username] = {"password": password, "token": token, "super": True}
        return {"username": username, "email": email, "access_token": token}

    # -- organizations
    def organization(self, name):
        return {"name": name} if name in self.orgs else None

    def create_organization(self, name, email=None):
        from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
        if name != name.lower() or " " in name:
            raise RestError("Quay: POST /api/v1/organization/: HTTP 400: Invalid namespace %s" % name, 400)
        self.orgs[name] = {"repos": {}, "apps": {}}
        self.calls.append(("create-org", name))
        return "Created"

    def delete_organization(self, name):
        self.calls.append(("delete-org", name))
        self.tokens = dict((k, v) for k, v in self.tokens.items() if v["org"] != name)
        return self.orgs.pop(name, None) is not None

    def applications(self, org):
        return [dict(a) for a in self.orgs[org]["apps"].values()]

    def application(self, org, name):
        return next((dict(a) for a in self.orgs[org]["apps"].values() if a["name"] == name), None)

    def create_application(self, org, name, description=""):
        app = {"name": name, "client_id": self._id("client"), "description": description}
        self.orgs[org]["apps"][app["client_id"]] = app
        self.calls.append(("create-app", org, name))
        return dict(app)

    def app_tokens(self, org, client_id):
        return [dict((k, v) for k, v in t.items() if k != "token") for t in self.tokens.values()
                if t["org"] == org and t["client_id"] == client_id]

    def create_app_token(self, org, client_id, name, scope, expiration=None):
        uuid = self._id("uuid")
        self.tokens[uuid] = {"uuid": uuid, "name": name, "scope": scope, "expires_at": "2099-01-01T00:00:00.000001Z",
                             "org": org, "client_id": client_id, "token": "app-token-%s" % uuid,
                             "created_by": self._user_of(self.token) or "quayadmin"}
        self.calls.append(("mint", name))
        return dict(self.tokens[uuid])

    def delete_app_token(self, org, client_id, uuid):
        self.calls.append(("revoke", uuid))
        return self.tokens.pop(uuid, None) is not None

    # -- repositories
    def repository(self, namespace, name):
        repo = self.orgs.get(namespace, {"repos": {}})["repos"].get(name)
        return dict(repo) if repo else None

    def create_repository(self, namespace, name, visibility, description=""):
        self.orgs[namespace]["repos"][name] = {"name": name, "is_public": visibility == "public"}
        self.calls.append(("create-repo", namespace, name))

    def change_visibility(self, namespace, name, visibility):
        self.orgs[namespace]["repos"][name]["is_public"] = visibility == "public"
        self.calls.append(("visibility", namespace, name, visibility))

    # -- robots
    def robot(self, org, short):
        robot = self.robots.get("%s+%s" % (org, short))
        return dict(robot) if robot else None

    def create_robot(self, org, short, description=""):
        full = "%s+%s" % (org, short)
        self.robots[full] = {"name": full, "token": "robot-token-%s" % self._id("r"), "description": description}
        self.calls.append(("create-robot", full))
        return dict(self.robots[full])

    def regenerate_robot(self, org, short):
        full = "%s+%s" % (org, short)
        self.robots[full]["token"] = "robot-token-%s" % self._id("r")
        self.calls.append(("regenerate", full))
        return dict(self.robots[full])

    def delete_robot(self, org, short):
        self.calls.append(("delete-robot", "%s+%s" % (org, short)))
        return self.robots.pop("%s+%s" % (org, short), None) is not None

    def permission(self, namespace, repo, member):
        role = self.permissions.get((namespace, repo, member))
        return {"role": role} if role else None

    def set_permission(self, namespace, repo, member, role):
        from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
        if repo not in self.orgs[namespace]["repos"]:
            raise RestError("Quay: PUT permissions: HTTP 400: Repository %s/%s does not exist" % (namespace, repo), 400)
        self.permissions[(namespace, repo, member)] = role
        self.calls.append(("grant", repo, member, role))
