"""Start, stop and reset the three-cluster lab.

One etcd, one real kube-apiserver per cluster (each under its own etcd prefix), an optional
trimmed kube-controller-manager per cluster (namespace lifecycle, garbage collection,
service accounts and their tokens, root CA publishing, role aggregation), the upstream CRDs
from ../shared/crds, OpenShift's cluster singletons, and the product stand-ins. Everything
listens on 127.0.0.1 only.

    python -m tests.lab up [--clusters lab-hub,lab-dev,lab-prod] [--no-kcm]
    python -m tests.lab down
    python -m tests.lab reset lab-dev
    python -m tests.lab status

DEVSECOPS_LAB_DIR moves the lab's state (default .lab/), DEVSECOPS_LAB_INVENTORY its inventory
(default inventories/lab/hosts.yml): with both set, a second lab runs beside the first.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

import requests
import yaml

from tests.lab import chartrepo, pki
from tests.lab.kube import Kube, KubeError

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_CLUSTERS = ("lab-hub", "lab-dev", "lab-prod")
GROUP_PREFIXES = (("lab-hub", "hub"), ("lab-dev", "development"), ("lab-prod", "production"))
OPENSHIFT_VERSION = "4.20.4"
BASE_DOMAIN = "lab.devsecops.invalid"
INGRESS_CA_VALIDITY = datetime.timedelta(days=730)  # OpenShift's ingress operator CA lives two years
KCM_CONTROLLERS = (
    "namespace-controller,garbage-collector-controller,serviceaccount-controller,"
    "serviceaccount-token-controller,root-ca-certificate-publisher-controller,"
    "clusterrole-aggregation-controller"
)


def state_dir():
    return os.environ.get("DEVSECOPS_LAB_DIR", os.path.join(REPO, ".lab"))


def cache_dir():
    return os.environ.get("DEVSECOPS_LAB_CACHE", os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "devsecops-multicluster"))


def shared_crds_dir():
    return os.environ.get("DEVSECOPS_SHARED_CRDS", os.path.join(os.path.dirname(REPO), "shared", "crds"))


# CRDs written for the lab (stand-ins of APIs that are not CRDs on a real cluster, e.g. OLM's aggregated
# packages.operators.coreos.com), laid out like ../shared/crds: <group>/<plural>.yaml.
LAB_CRDS_DIR = os.path.join(HERE, "crds")
# A default StorageClass, as OpenShift installs one on every cloud platform (gp3-csi on AWS, ...): the
# collection's products claim volumes from it (Central's database, Quay's, NooBaa's) and preflight checks it.
DEFAULT_STORAGE_CLASS = "lab-local"


def crd_dirs():
    """(directory, devsecops.lab/source label) of every CRD the lab installs."""
    return ((shared_crds_dir(), "shared-crds"), (LAB_CRDS_DIR, "standin"))


def default_storage_class():
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": DEFAULT_STORAGE_CLASS,
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_of(cluster):
    """Inventory group of a lab cluster: lab-hub -> hub, lab-dev[-N] -> development, lab-prod[-N] -> production."""
    for prefix, group in GROUP_PREFIXES:
        if cluster == prefix or cluster.startswith(prefix + "-"):
            return group
    raise ValueError("cluster %r: name must be lab-hub, lab-dev[-N] or lab-prod[-N]" % cluster)


class Lab:
    """The lab as recorded in <state>/state.json."""

    def __init__(self, directory=None):
        self.dir = directory or state_dir()
        self.state_file = os.path.join(self.dir, "state.json")
        self.state = {}
        if os.path.exists(self.state_file):
            with open(self.state_file) as handle:
                self.state = json.load(handle)

    # -- bookkeeping ---------------------------------------------------------
    def save(self):
        os.makedirs(self.dir, exist_ok=True)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(self.state, handle, indent=2)
        os.replace(tmp, self.state_file)

    @property
    def clusters(self):
        return self.state.get("clusters", {})

    @property
    def kubeconfig(self):
        return os.path.join(self.dir, "kubeconfig")

    @property
    def ca_file(self):
        return os.path.join(self.dir, "pki", "ca.crt")

    def kube(self, cluster):
        info = self.clusters[cluster]
        return Kube(info["server"], self.ca_file, info["admin_token"], name=cluster)

    def log(self, name):
        return os.path.join(self.dir, "logs", name + ".log")

    @staticmethod
    def _alive(pid):
        if not pid:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        try:
            with open("/proc/%d/stat" % pid) as handle:
                return handle.read().split()[2] != "Z"
        except OSError:
            return True

    def running(self):
        """True when every recorded process is alive and every apiserver answers /readyz."""
        if not self.state.get("pids"):
            return False
        if not all(self._alive(pid) for pid in self.state["pids"].values()):
            return False
        try:
            for cluster in self.clusters:
                self._ready(cluster, timeout=2)
        except Exception:  # noqa: BLE001 - any failure means "not usable"
            return False
        return True

    def _spawn(self, name, argv, env=None):
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        log = open(self.log(name), "ab")
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )
        self.state.setdefault("pids", {})[name] = proc.pid
        self.save()
        return proc

    def _stop(self, name, grace=15):
        pid = self.state.get("pids", {}).pop(name, None)
        if pid and self._alive(pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and self._alive(pid):
                time.sleep(0.1)
            if self._alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.save()

    def _ready(self, cluster, timeout=60):
        info = self.clusters[cluster]
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                resp = requests.get(info["server"] + "/readyz", verify=self.ca_file, timeout=2)
                if resp.status_code == 200:
                    return
                last = "HTTP %s %s" % (resp.status_code, resp.text[-300:])
            except requests.RequestException as err:
                last = str(err)
            time.sleep(0.2)
        raise RuntimeError("lab: apiserver %s not ready after %ss: %s (see %s)"
                           % (cluster, timeout, last, self.log("apiserver-" + cluster)))

    # -- up ------------------------------------------------------------------
    def up(self, clusters=DEFAULT_CLUSTERS, kcm=True, standins=True):
        if self.running():
            print("lab: already running (%s)" % ", ".join(self.clusters))
            added = [self._add_central_ports(), self._add_quay_ports(), self._add_harbor_ports(),
                     self._add_ingress_cas(), self._add_chart_repository(), self._add_lab_crds(),
                     self._add_default_storage_classes()]
            if any(added):
                # started by an older tests/lab: give it the ACS, Quay and Harbor ports, the ingress CAs and
                # stand-ins that serve them
                self.save()
                if standins:
                    self.start_standins()
                self.write_inventory()
            return
        if self.state:
            self.down(quiet=True)
        try:
            self._up(clusters, kcm, standins)
        except BaseException:
            logs = os.path.join(self.dir, "logs")
            kept = logs + ".failed"
            shutil.rmtree(kept, ignore_errors=True)
            if os.path.isdir(logs):
                shutil.copytree(logs, kept)
            self.down(quiet=True)
            if os.path.isdir(kept):
                os.makedirs(self.dir, exist_ok=True)
                shutil.move(kept, os.path.join(self.dir, "logs"))
            raise

    def _up(self, clusters, kcm, standins):
        started = time.monotonic()
        timings = {}
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        for cluster in clusters:
            group_of(cluster)
        t0 = time.monotonic()
        bindir = subprocess.run(
            [os.path.join(HERE, "build.sh")], check=True, stdout=subprocess.PIPE, text=True
        ).stdout.strip().splitlines()[-1]
        timings["binaries"] = round(time.monotonic() - t0, 1)
        self.state = {"bin": bindir, "clusters": {}, "pids": {}, "kcm": kcm,
                      "created": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        self._setup_chart_repository(timings)
        ca = pki.CA.create(os.path.join(self.dir, "pki"), "devsecops-lab-ca")
        etcd_port, peer_port = free_port(), free_port()
        self.state["etcd"] = "http://127.0.0.1:%d" % etcd_port
        t0 = time.monotonic()
        self._spawn("etcd", [
            os.path.join(bindir, "etcd"), "--name=lab", "--data-dir=" + os.path.join(self.dir, "etcd"),
            "--listen-client-urls=" + self.state["etcd"], "--advertise-client-urls=" + self.state["etcd"],
            "--listen-peer-urls=http://127.0.0.1:%d" % peer_port,
            "--initial-advertise-peer-urls=http://127.0.0.1:%d" % peer_port,
            "--initial-cluster=lab=http://127.0.0.1:%d" % peer_port, "--initial-cluster-state=new",
            "--unsafe-no-fsync=true", "--log-level=warn", "--quota-backend-bytes=4294967296",
            "--listen-metrics-urls=http://127.0.0.1:%d" % free_port(),
        ])
        self._wait_etcd()
        timings["etcd"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        for cluster in clusters:
            self._prepare_cluster(ca, cluster)
            self._start_apiserver(cluster)
        for cluster in clusters:
            self._ready(cluster, timeout=120)
        timings["apiservers"] = round(time.monotonic() - t0, 1)
        self.write_kubeconfig()
        t0 = time.monotonic()
        self._install_crds(list(clusters))
        timings["crds"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        for cluster in clusters:
            self._seed(cluster)
            if kcm:
                self._start_kcm(cluster)
        timings["seed"] = round(time.monotonic() - t0, 1)
        if standins:
            self.start_standins()
        self.write_inventory()
        timings["total"] = round(time.monotonic() - started, 1)
        self.state["timings"] = timings
        self.save()
        print("lab: up in %.1fs (%s)" % (timings["total"], json.dumps(timings)))
        print("lab: kubeconfig %s, inventory %s" % (self.kubeconfig, self.inventory_file()))

    def _add_central_ports(self):
        """Give every cluster a central_port if it has none yet; True if any was added."""
        missing = [info for info in self.clusters.values() if not info.get("central_port")]
        for info in missing:
            info["central_port"] = free_port()
        return bool(missing)

    def _setup_chart_repository(self, timings=None):
        """The helm binary (tests/lab/build-helm.sh) and the stand-in charts packaged into a chart repository
        the stand-ins serve on 127.0.0.1:<port> (tests/lab/chartrepo.py)."""
        t0 = time.monotonic()
        helm = subprocess.run([os.path.join(HERE, "build-helm.sh")], check=True, stdout=subprocess.PIPE,
                              text=True).stdout.strip().splitlines()[-1]
        t1 = time.monotonic()
        packaged, _cached = chartrepo.package(helm, cache_dir())
        directory = os.path.join(self.dir, "charts")
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(packaged, directory)
        self.state["helm"] = helm
        port = (self.state.get("chart_repository") or {}).get("port") or free_port()
        self.state["chart_repository"] = {"port": port, "dir": directory, "digest": os.path.basename(packaged)}
        if timings is not None:
            timings["helm"] = round(t1 - t0, 1)
            timings["charts"] = round(time.monotonic() - t1, 1)
        self.save()

    def _add_chart_repository(self):
        """Give a running older lab its helm and chart repository; True if it had none."""
        if self.state.get("helm") and os.path.exists(self.state["helm"]) and self.state.get("chart_repository"):
            return False
        self._setup_chart_repository()
        return True

    def chart_repository_url(self):
        repo = self.state.get("chart_repository")
        return "http://127.0.0.1:%d" % repo["port"] if repo else None

    def central_state_file(self, cluster):
        """Where the ACS Central stand-in of a cluster keeps its bundles, tokens and clusters."""
        return os.path.join(self.dir, "central-%s.json" % cluster)

    def _add_quay_ports(self):
        """Give every cluster a quay_port if it has none yet; True if any was added."""
        missing = [info for info in self.clusters.values() if not info.get("quay_port")]
        for info in missing:
            info["quay_port"] = free_port()
        return bool(missing)

    def quay_state_file(self, cluster):
        """Where the Quay stand-in of a cluster keeps its users, organizations, tokens and robots."""
        return os.path.join(self.dir, "quay-%s.json" % cluster)

    def _add_harbor_ports(self):
        """Give every cluster a harbor_port and a harbor_adapter_port if it has none yet; True if any was added."""
        added = False
        for info in self.clusters.values():
            for key in ("harbor_port", "harbor_adapter_port"):
                if not info.get(key):
                    info[key] = free_port()
                    added = True
        return added

    def harbor_state_file(self, cluster):
        """Where the Harbor stand-in of a cluster keeps its scanner registrations, projects and schedule."""
        return os.path.join(self.dir, "harbor-%s.json" % cluster)

    def ingress_ca_dir(self, cluster):
        """The cluster's "ingress" CA (ca.crt, ca.key): what OpenShift's router serves its default
        certificate from and publishes as ConfigMap openshift-config-managed/default-ingress-cert."""
        return os.path.join(self.clusters[cluster]["dir"], "ingress-ca")

    def ingress_ca(self, cluster):
        """The cluster's ingress CA as a pki.CA, or None if this lab has none yet."""
        directory = self.ingress_ca_dir(cluster)
        if not os.path.exists(os.path.join(directory, "ca.crt")):
            return None
        return pki.CA.load(directory)

    def _seed_ingress_ca(self, cluster):
        """Create the cluster's ingress CA once (kept in its lab directory, so stand-in restarts serve the
        same one) and publish it as OpenShift does: ConfigMap default-ingress-cert, key ca-bundle.crt."""
        ca = self.ingress_ca(cluster)
        if ca is None:
            ca = pki.CA.generate("ingress-operator@%d" % int(time.time()), validity=INGRESS_CA_VALIDITY)
            ca.save(self.ingress_ca_dir(cluster))
        kube = self.kube(cluster)
        kube.apply("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": "openshift-config-managed"}})
        kube.apply("v1", "configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "default-ingress-cert", "namespace": "openshift-config-managed"},
            "data": {"ca-bundle.crt": ca.cert_pem.decode()},
        }, namespace="openshift-config-managed")

    def _add_ingress_cas(self):
        """Give every cluster of a running older lab its ingress CA; True if any was added."""
        missing = [c for c in self.clusters
                   if self.ingress_ca(c) is None or self.kube(c).get_or_none(
                       "v1", "configmaps", "default-ingress-cert", "openshift-config-managed") is None]
        for cluster in missing:
            self._seed_ingress_ca(cluster)
        return bool(missing)

    def _add_lab_crds(self):
        """Give every cluster of a running older lab the lab's own CRDs (tests/lab/crds); True if any was added."""
        wanted = [crd for crd in self._crd_documents() if crd["metadata"]["labels"]["devsecops.lab/source"] != "shared-crds"]
        added = False
        for cluster in self.clusters:
            kube = self.kube(cluster)
            missing = [crd for crd in wanted if kube.get_or_none(
                "apiextensions.k8s.io/v1", "customresourcedefinitions", crd["metadata"]["name"]) is None]
            for crd in missing:
                kube.apply("apiextensions.k8s.io/v1", "customresourcedefinitions", crd)
            if missing:
                before = self.clusters[cluster].get("crds", 0)
                self._wait_crds(cluster, set(c["metadata"]["name"] for c in missing))
                self.clusters[cluster]["crds"] = before + len(missing)
                added = True
        return added

    def _add_default_storage_classes(self):
        """Give every cluster of a running older lab its default StorageClass; True if any was added."""
        missing = [c for c in self.clusters if self.kube(c).get_or_none(
            "storage.k8s.io/v1", "storageclasses", DEFAULT_STORAGE_CLASS) is None]
        for cluster in missing:
            self.kube(cluster).apply("storage.k8s.io/v1", "storageclasses", default_storage_class())
        return bool(missing)

    def _wait_etcd(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.state["etcd"] + "/health", timeout=1).json().get("health") == "true":
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError("lab: etcd not healthy after %ss (see %s)" % (timeout, self.log("etcd")))

    def _prepare_cluster(self, ca, cluster, prefix=None):
        cdir = os.path.join(self.dir, "clusters", cluster)
        os.makedirs(cdir, exist_ok=True)
        ca.issue(os.path.join(cdir, "serving"), "kube-apiserver", server=True,
                 hosts=("127.0.0.1", "localhost", "kubernetes.default.svc"))
        ca.issue(os.path.join(cdir, "admin"), "admin", organization="system:masters", client=True)
        pki.service_account_keypair(os.path.join(cdir, "sa"))
        port = free_port()
        admin_token = secrets.token_hex(24)
        nobody_token = secrets.token_hex(24)
        with open(os.path.join(cdir, "tokens.csv"), "w") as handle:
            handle.write('%s,admin,admin-uid,"system:masters"\n' % admin_token)
            handle.write("%s,lab-nobody,lab-nobody-uid\n" % nobody_token)
        os.chmod(os.path.join(cdir, "tokens.csv"), 0o600)
        self.state["clusters"][cluster] = {
            "server": "https://127.0.0.1:%d" % port,
            "port": port,
            "group": group_of(cluster),
            "admin_token": admin_token,
            "nobody_token": nobody_token,
            "etcd_prefix": prefix or "/lab/%s/%s" % (cluster, uuid.uuid4().hex[:8]),
            "dir": cdir,
            # where this cluster's ACS Central stand-in listens once a Central exists on it
            "central_port": free_port(),
            # where this cluster's Quay stand-in listens once a QuayRegistry is ready on it
            "quay_port": free_port(),
            # where this cluster's Harbor stand-in listens (it answers once Secret harbor/harbor-admin exists)
            # and where its pluggable scanner adapter stand-in listens
            "harbor_port": free_port(),
            "harbor_adapter_port": free_port(),
        }
        self.save()

    def kill_apiserver(self, cluster):
        """SIGKILL one cluster's apiserver (fault tests); start_apiserver brings it back on the same data."""
        pid = self.state.get("pids", {}).pop("apiserver-" + cluster, None)
        if pid and self._alive(pid):
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self._alive(pid):
                time.sleep(0.1)
        self.save()

    def start_apiserver(self, cluster):
        """Start one cluster's apiserver again (after kill_apiserver) and wait until it is ready."""
        self._start_apiserver(cluster)
        self._ready(cluster, timeout=120)

    def _start_apiserver(self, cluster):
        info = self.clusters[cluster]
        cdir = info["dir"]
        self._spawn("apiserver-" + cluster, [
            os.path.join(self.state["bin"], "kube-apiserver"),
            "--etcd-servers=" + self.state["etcd"],
            "--etcd-prefix=" + info["etcd_prefix"],
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            "--secure-port=%d" % info["port"],
            "--tls-cert-file=" + os.path.join(cdir, "serving.crt"),
            "--tls-private-key-file=" + os.path.join(cdir, "serving.key"),
            "--cert-dir=" + os.path.join(cdir, "certdir"),
            "--client-ca-file=" + self.ca_file,
            "--token-auth-file=" + os.path.join(cdir, "tokens.csv"),
            "--authorization-mode=RBAC",
            "--service-account-issuer=" + info["server"],
            "--service-account-key-file=" + os.path.join(cdir, "sa.pub"),
            "--service-account-signing-key-file=" + os.path.join(cdir, "sa.key"),
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            "--disable-admission-plugins=ServiceAccount",
            "--endpoint-reconciler-type=none",
            "--enable-aggregator-routing=true",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ])

    def _start_kcm(self, cluster):
        info = self.clusters[cluster]
        cdir = info["dir"]
        kubeconfig = os.path.join(cdir, "kcm.kubeconfig")
        self._write_kubeconfig_file(kubeconfig, [cluster], cert_users=True)
        self._spawn("kcm-" + cluster, [
            os.path.join(self.state["bin"], "kube-controller-manager"),
            "--kubeconfig=" + kubeconfig,
            "--secure-port=0",
            "--leader-elect=false",
            "--controllers=" + KCM_CONTROLLERS,
            "--service-account-private-key-file=" + os.path.join(cdir, "sa.key"),
            "--root-ca-file=" + self.ca_file,
            "--use-service-account-credentials=false",
            "--concurrent-gc-syncs=5",
            "--v=1",
        ])

    # -- CRDs and seeds ------------------------------------------------------
    @staticmethod
    def _crd_files():
        """(source label, directory, file name) of every CRD file, in a stable order."""
        found = []
        for directory, source in crd_dirs():
            for root, _dirs, files in sorted(os.walk(directory)):
                found.extend((source, root, filename) for filename in sorted(files) if filename.endswith(".yaml"))
        return found

    def _crd_documents(self):
        """The upstream CRDs and the lab's own as the lab installs them (conversion CA filled in)."""
        crd_dir = shared_crds_dir()
        if not os.path.isdir(crd_dir):
            raise RuntimeError("lab: CRD directory %s not found (set DEVSECOPS_SHARED_CRDS)" % crd_dir)
        with open(self.ca_file, "rb") as handle:
            ca_bundle = base64.b64encode(handle.read()).decode()
        docs = []
        for source, root, filename in self._crd_files():
            with open(os.path.join(root, filename)) as handle:
                crd = yaml.load(handle, Loader=YAML_LOADER)
            crd["metadata"] = {"name": crd["metadata"]["name"], "labels": {"devsecops.lab/source": source}}
            crd.pop("status", None)
            webhook = (crd["spec"].get("conversion") or {}).get("webhook") or {}
            if webhook.get("clientConfig") is not None and b"CERTIFICATE" not in base64.b64decode(
                    webhook["clientConfig"].get("caBundle") or ""):
                # cert-manager injects this on a real cluster; the apiserver refuses to
                # establish the CRD without it. Conversion itself is never called: the
                # collection uses storage versions only.
                webhook["clientConfig"]["caBundle"] = ca_bundle
            docs.append(crd)
        return docs

    def _crd_template_file(self):
        """Cache file of the CRDs as etcd stores them, keyed by the CRD files and the binaries."""
        digest = hashlib.sha256(os.path.basename(self.state["bin"]).encode())
        for _source, root, filename in self._crd_files():
            with open(os.path.join(root, filename), "rb") as handle:
                digest.update(filename.encode() + handle.read())
        return os.path.join(cache_dir(), "crd-template-%s.json" % digest.hexdigest()[:16])

    def _etcd(self, verb, payload):
        resp = requests.post("%s/v3/kv/%s" % (self.state["etcd"], verb), json=payload, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def _crd_prefix(self, cluster):
        return self.clusters[cluster]["etcd_prefix"] + "/apiextensions.k8s.io/customresourcedefinitions/"

    def _export_crd_template(self, cluster, path):
        prefix = self._crd_prefix(cluster).encode()
        end = prefix[:-1] + bytes([prefix[-1] + 1])
        kvs = self._etcd("range", {"key": base64.b64encode(prefix).decode(),
                                   "range_end": base64.b64encode(end).decode()}).get("kvs", [])
        template = {base64.b64decode(kv["key"])[len(prefix):].decode(): kv["value"] for kv in kvs}
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as handle:
            json.dump(template, handle)
        os.replace(path + ".tmp", path)
        return template

    def _import_crd_template(self, cluster, template):
        prefix = self._crd_prefix(cluster)
        for name, value in template.items():
            self._etcd("put", {"key": base64.b64encode((prefix + name).encode()).decode(), "value": value})

    def _install_crds(self, clusters):
        """Install the CRDs on every cluster: through the API once, then from the etcd template."""
        path = self._crd_template_file()
        template = None
        if os.path.exists(path):
            with open(path) as handle:
                template = json.load(handle)
        if template is None:
            first = clusters[0]
            kube = self.kube(first)
            for crd in self._crd_documents():
                kube.apply("apiextensions.k8s.io/v1", "customresourcedefinitions", crd)
            self._wait_crds(first, set(self._crd_names_from_files()))
            template = self._export_crd_template(first, path)
            clusters = clusters[1:]
        for cluster in clusters:
            self._import_crd_template(cluster, template)
        for cluster in clusters:
            self._wait_crds(cluster, set(template))

    @classmethod
    def _crd_names_from_files(cls):
        """CRD names are <plural>.<group>, and the files are <group>/<plural>.yaml."""
        return ["%s.%s" % (filename[:-5], os.path.basename(root)) for _source, root, filename in cls._crd_files()]

    def _wait_crds(self, cluster, wanted):
        kube = self.kube(cluster)

        def all_established():
            listing = kube.list("apiextensions.k8s.io/v1", "customresourcedefinitions")["items"]
            ready = {c["metadata"]["name"] for c in listing
                     if any(x.get("type") == "Established" and x.get("status") == "True"
                            for x in (c.get("status") or {}).get("conditions") or [])}
            return wanted <= ready

        kube.wait_for(all_established, timeout=180, interval=1, what="%d CRDs Established" % len(wanted))
        self.state["clusters"][cluster]["crds"] = len(wanted)

    def _seed(self, cluster):
        """OpenShift's cluster singletons, namespaces, global OperatorGroup and catalog sources."""
        kube = self.kube(cluster)
        info = self.clusters[cluster]
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        image = "quay.io/openshift-release-dev/ocp-release@sha256:" + "0" * 64
        cv = kube.apply("config.openshift.io/v1", "clusterversions", {
            "apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion",
            "metadata": {"name": "version"},
            "spec": {"clusterID": str(uuid.uuid4()), "channel": "stable-4.20"},
        })
        kube.apply("config.openshift.io/v1", "clusterversions", {
            "apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion",
            "metadata": {"name": "version"},
            "status": {
                "availableUpdates": [], "observedGeneration": cv["metadata"]["generation"],
                "versionHash": "lab", "desired": {"version": OPENSHIFT_VERSION, "image": image},
                "history": [{"state": "Completed", "version": OPENSHIFT_VERSION, "image": image,
                             "startedTime": now, "completionTime": now, "verified": False}],
            },
        }, subresource="status")
        kube.apply("config.openshift.io/v1", "infrastructures", {
            "apiVersion": "config.openshift.io/v1", "kind": "Infrastructure",
            "metadata": {"name": "cluster"}, "spec": {"platformSpec": {"type": "None"}},
        })
        kube.apply("config.openshift.io/v1", "infrastructures", {
            "apiVersion": "config.openshift.io/v1", "kind": "Infrastructure",
            "metadata": {"name": "cluster"},
            "status": {
                "apiServerURL": info["server"], "apiServerInternalURI": info["server"],
                "infrastructureName": "%s-lab" % cluster, "platform": "None",
                "platformStatus": {"type": "None"}, "controlPlaneTopology": "HighlyAvailable",
                "infrastructureTopology": "HighlyAvailable", "cpuPartitioning": "None",
                "etcdDiscoveryDomain": "",
            },
        }, subresource="status")
        domain = "apps.%s.%s" % (cluster, BASE_DOMAIN)
        kube.apply("config.openshift.io/v1", "ingresses", {
            "apiVersion": "config.openshift.io/v1", "kind": "Ingress",
            "metadata": {"name": "cluster"}, "spec": {"domain": domain},
        })
        for namespace in ("openshift-operators", "openshift-marketplace",
                          "openshift-operator-lifecycle-manager", "openshift-config"):
            kube.apply("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                            "metadata": {"name": namespace}})
        kube.apply("operators.coreos.com/v1", "operatorgroups", {
            "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
            "metadata": {"name": "global-operators", "namespace": "openshift-operators"},
            "spec": {},
        }, namespace="openshift-operators")
        with open(os.path.join(HERE, "catalog.yaml")) as handle:
            catalog = yaml.safe_load(handle)
        for name, source in catalog["catalogs"].items():
            kube.apply("operators.coreos.com/v1alpha1", "catalogsources", {
                "apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
                "metadata": {"name": name, "namespace": source["namespace"]},
                "spec": {"sourceType": "grpc", "displayName": source["display_name"],
                         "publisher": source["publisher"],
                         "image": "registry.redhat.io/redhat/%s-index:v4.20" % name},
            }, namespace=source["namespace"])
            kube.apply("operators.coreos.com/v1alpha1", "catalogsources", {
                "apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
                "metadata": {"name": name, "namespace": source["namespace"]},
                "status": {"connectionState": {"lastObservedState": "READY",
                                               "address": "%s.%s.svc:50051" % (name, source["namespace"]),
                                               "lastConnect": now}},
            }, namespace=source["namespace"], subresource="status")
        kube.apply("storage.k8s.io/v1", "storageclasses", default_storage_class())
        self._seed_ingress_ca(cluster)

    # -- stand-ins -------------------------------------------------------------
    def start_standins(self):
        self._stop("standins")
        ready = os.path.join(self.dir, "standins.ready")
        if os.path.exists(ready):
            os.remove(ready)  # written by the previous stand-ins: wait for the new ones
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self._spawn("standins", [sys.executable, "-m", "tests.lab.standins", "--state", self.dir], env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(ready):
                return
            if not self._alive(self.state["pids"]["standins"]):
                break
            time.sleep(0.1)
        raise RuntimeError("lab: stand-ins did not start (see %s)" % self.log("standins"))

    # -- kubeconfig and inventory --------------------------------------------
    def _write_kubeconfig_file(self, path, clusters, cert_users=True):
        with open(self.ca_file, "rb") as handle:
            ca_data = base64.b64encode(handle.read()).decode()
        config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                  "clusters": [], "users": [], "contexts": []}
        for cluster in clusters:
            info = self.clusters[cluster]
            config["clusters"].append({"name": cluster, "cluster": {
                "server": info["server"], "certificate-authority-data": ca_data}})
            if cert_users:
                config["users"].append({"name": cluster + "-admin", "user": {
                    "client-certificate": os.path.join(info["dir"], "admin.crt"),
                    "client-key": os.path.join(info["dir"], "admin.key")}})
            config["users"].append({"name": cluster + "-token", "user": {"token": info["admin_token"]}})
            config["contexts"].append({"name": cluster, "context": {
                "cluster": cluster, "user": cluster + ("-admin" if cert_users else "-token")}})
            config["contexts"].append({"name": cluster + "-token", "context": {
                "cluster": cluster, "user": cluster + "-token"}})
        config["current-context"] = clusters[0]
        with open(path, "w") as handle:
            yaml.safe_dump(config, handle, default_flow_style=False)
        os.chmod(path, 0o600)

    def write_kubeconfig(self):
        self._write_kubeconfig_file(self.kubeconfig, list(self.clusters), cert_users=True)

    @staticmethod
    def inventory_file():
        return os.environ.get("DEVSECOPS_LAB_INVENTORY") or os.path.join(REPO, "inventories", "lab", "hosts.yml")

    def write_inventory(self):
        groups = {"hub": {}, "development": {}, "production": {}}
        for cluster, info in self.clusters.items():
            host = {"cluster_context": cluster}
            if self.state.get("helm"):
                host["helm_binary"] = self.state["helm"]
            if self.state.get("chart_repository"):
                host["lab_chart_repository"] = self.chart_repository_url()
            if info["group"] == "hub" and info.get("central_port"):
                host["acs_central_endpoint"] = "localhost:%d" % info["central_port"]
            if info.get("harbor_port"):
                host["harbor_endpoint"] = "localhost:%d" % info["harbor_port"]
            if info.get("harbor_adapter_port"):
                host["harbor_scanner_adapter_url"] = "http://127.0.0.1:%d" % info["harbor_adapter_port"]
            groups[info["group"]][cluster] = host
        inventory = {"all": {
            "vars": {"cluster_kubeconfig": self.kubeconfig, "ansible_connection": "local",
                     "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "children": {
                "hub": {"hosts": groups["hub"]},
                "spokes": {"children": {
                    "development": {"hosts": groups["development"]},
                    "production": {"hosts": groups["production"]},
                }},
            },
        }}
        path = self.inventory_file()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("# Written by tests/lab (make lab-up); points at the running lab. Not committed.\n")
            yaml.safe_dump(inventory, handle, default_flow_style=False, sort_keys=False)

    # -- down and reset ------------------------------------------------------
    def down(self, quiet=False):
        names = list(self.state.get("pids", {}))
        order = [n for n in names if n == "standins"] + [n for n in names if n.startswith("kcm-")] + \
            [n for n in names if n.startswith("apiserver-")] + [n for n in names if n == "etcd"]
        for name in order:
            self._stop(name)
        for path in [self.inventory_file()] + [self.central_state_file(c) for c in self.clusters] + \
                [self.quay_state_file(c) for c in self.clusters] + [self.harbor_state_file(c) for c in self.clusters]:
            if os.path.exists(path):
                os.remove(path)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.state = {}
        if not quiet:
            print("lab: down")

    def reset(self, cluster):
        """Give one cluster an empty etcd prefix and re-seed it; the others keep running."""
        if cluster not in self.clusters:
            raise ValueError("no cluster %r (have %s)" % (cluster, ", ".join(self.clusters)))
        started = time.monotonic()
        self._stop("standins")
        self._stop("kcm-" + cluster)
        self._stop("apiserver-" + cluster)
        for path in (self.central_state_file(cluster), self.quay_state_file(cluster), self.harbor_state_file(cluster)):
            if os.path.exists(path):
                os.remove(path)  # its Central, its Quay and its Harbor are gone with the cluster
        shutil.rmtree(self.ingress_ca_dir(cluster), ignore_errors=True)  # a new cluster, a new router CA
        info = self.clusters[cluster]
        old = (info["etcd_prefix"] + "/").encode()
        self._etcd("deleterange", {"key": base64.b64encode(old).decode(),
                                   "range_end": base64.b64encode(old[:-1] + b"0").decode()})
        info["etcd_prefix"] = "/lab/%s/%s" % (cluster, uuid.uuid4().hex[:8])
        self.save()
        self._start_apiserver(cluster)
        self._ready(cluster, timeout=120)
        self._install_crds([cluster])
        self._seed(cluster)
        if self.state.get("kcm"):
            self._start_kcm(cluster)
        self.start_standins()
        print("lab: %s reset in %.1fs" % (cluster, time.monotonic() - started))

    def status(self):
        if not self.state:
            print("lab: not running")
            return 1
        ok = self.running()
        print("lab: %s" % ("running" if ok else "NOT healthy"))
        for cluster, info in self.clusters.items():
            print("  %-12s %s  (context %s)" % (cluster, info["server"], cluster))
        print("  kubeconfig %s" % self.kubeconfig)
        print("  inventory  %s" % self.inventory_file())
        if self.state.get("helm"):
            print("  helm       %s" % self.state["helm"])
        if self.state.get("chart_repository"):
            print("  charts     %s (%s)" % (self.chart_repository_url(), self.state["chart_repository"]["dir"]))
        rss = 0
        for pid in self.state.get("pids", {}).values():
            try:
                with open("/proc/%d/status" % pid) as handle:
                    for line in handle:
                        if line.startswith("VmRSS:"):
                            rss += int(line.split()[1])
            except OSError:
                pass
        print("  memory     %.0f MiB RSS in %d processes" % (rss / 1024, len(self.state.get("pids", {}))))
        if self.state.get("timings"):
            print("  start      %s" % json.dumps(self.state["timings"]))
        return 0 if ok else 1


def show(lab):
    """What the collection has installed on each cluster: operators and their CSV phases."""
    if not lab.running():
        print("lab: not running (make lab-up)")
        return 1
    olm = "operators.coreos.com/v1alpha1"
    if lab.state.get("helm"):
        print("helm %s, chart repository %s" % (lab.state["helm"], lab.chart_repository_url()))
    for cluster in lab.clusters:
        kube = lab.kube(cluster)
        csvs = {(c["metadata"]["namespace"], c["metadata"]["name"]): c.get("status", {}).get("phase")
                for c in kube.list(olm, "clusterserviceversions")["items"]}
        subs = kube.list(olm, "subscriptions")["items"]
        print("%s (%s, context %s): %d operator(s)" % (cluster, lab.clusters[cluster]["server"], cluster, len(subs)))
        for sub in sorted(subs, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
            installed = sub.get("status", {}).get("installedCSV") or "-"
            phase = csvs.get((sub["metadata"]["namespace"], installed), "-")
            print("  %-34s %-24s %-44s %s" % (sub["metadata"]["name"], sub["metadata"]["namespace"], installed, phase))
        for reg in kube.list("quay.redhat.com/v1", "quayregistries")["items"]:
            state = {c.get("type"): c.get("status") for c in (reg.get("status") or {}).get("conditions") or []}
            print("  quay %s/%s %s available=%s" % (reg["metadata"]["namespace"], reg["metadata"]["name"],
                                                   (reg.get("status") or {}).get("registryEndpoint", "-"),
                                                   state.get("Available", "-")))
        harbor = kube.get_or_none("v1", "secrets", "harbor-admin", "harbor")
        print("  harbor https://localhost:%s installed=%s scanner adapter %s" % (
            lab.clusters[cluster].get("harbor_port", "-"), "yes" if harbor else "no (no Secret harbor/harbor-admin)",
            "http://127.0.0.1:%s" % lab.clusters[cluster].get("harbor_adapter_port", "-")))
        for central in kube.list("platform.stackrox.io/v1alpha1", "centrals")["items"]:
            print("  ACS central %s/%s https://localhost:%s" % (central["metadata"]["namespace"],
                                                            central["metadata"]["name"],
                                                            lab.clusters[cluster].get("central_port")))
        for mc in kube.list("cluster.open-cluster-management.io/v1", "managedclusters")["items"]:
            state = {c.get("type"): c.get("status") for c in (mc.get("status") or {}).get("conditions") or []}
            argocd = kube.get_or_none("v1", "secrets", "%s-cluster" % mc["metadata"]["name"], "openshift-gitops")
            print("  managed cluster %-18s clusterGroup=%-12s available=%-5s argocd=%s" % (
                mc["metadata"]["name"], (mc["metadata"].get("labels") or {}).get("clusterGroup", "-"),
                state.get("ManagedClusterConditionAvailable", "-"), "registered" if argocd else "-"))
        for app in kube.list("argoproj.io/v1alpha1", "applications")["items"]:
            st, src = app.get("status") or {}, (app.get("spec") or {}).get("source") or {}
            print("  application %s/%s %s %s sync=%s health=%s" % (
                app["metadata"]["namespace"], app["metadata"]["name"], src.get("chart") or src.get("path") or "-",
                src.get("targetRevision", "-"), (st.get("sync") or {}).get("status", "-"),
                (st.get("health") or {}).get("status", "-")))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the lab (reuses a running one)")
    up.add_argument("--clusters", default=",".join(DEFAULT_CLUSTERS))
    up.add_argument("--no-kcm", action="store_true", help="no kube-controller-manager")
    sub.add_parser("down", help="stop the lab and delete its state")
    reset = sub.add_parser("reset", help="empty one cluster (lab-hub, lab-dev, ...) and seed it again")
    reset.add_argument("cluster")
    sub.add_parser("status", help="say what runs where")
    sub.add_parser("show", help="list the operators installed on each cluster")
    args = parser.parse_args(argv)
    lab = Lab()
    try:
        if args.command == "up":
            lab.up(tuple(c for c in args.clusters.split(",") if c), kcm=not args.no_kcm)
        elif args.command == "down":
            lab.down()
        elif args.command == "reset":
            lab.reset(args.cluster)
        elif args.command == "status":
            return lab.status()
        elif args.command == "show":
            return show(lab)
    except (RuntimeError, KubeError, subprocess.CalledProcessError, ValueError) as err:
        print("lab: %s" % err, file=sys.stderr)
        return 1
    return 0
