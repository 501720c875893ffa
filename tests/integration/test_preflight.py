"""playbooks/preflight.yml on the lab: all clear on a healthy lab; on a broken inventory one table of every
problem of every cluster - a channel the catalog lacks, a missing storage class, a refused token, an
unreachable cluster, the hub's Central not answering - then a failure, with nothing written anywhere;
--limit to one spoke; site.yml stopping before its first write; preflight_skip and --skip-tags."""

import os
import secrets as pysecrets
import socket
import subprocess

import pytest

from conftest import REPO, write_inventory

PREFLIGHT = "playbooks/preflight.yml"
OLM = "operators.coreos.com/v1alpha1"
CENTRAL = ("platform.stackrox.io/v1alpha1", "centrals")
GROUP_VARS = os.path.join(REPO, "inventories", "lab", "group_vars")
KINDS = (("v1", "namespaces"), (OLM, "subscriptions"), (OLM, "installplans"), (OLM, "clusterserviceversions"),
         ("operators.coreos.com/v1", "operatorgroups"), ("storage.k8s.io/v1", "storageclasses"),
         ("packages.operators.coreos.com/v1", "packagemanifests"), ("v1", "secrets"), ("v1", "serviceaccounts"),
         ("rbac.authorization.k8s.io/v1", "clusterrolebindings"), CENTRAL)


def snapshot(*kubes):
    """resourceVersions of every object of the kinds a converge writes first: equal snapshots, nothing written."""
    state = {}
    for kube in kubes:
        for api, plural in KINDS:
            for obj in kube.list(api, plural)["items"]:
                meta = obj["metadata"]
                state[(kube.name, plural, meta.get("namespace"), meta["name"])] = meta["resourceVersion"]
    return state


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def table(run):
    """The report's table lines (as the debug task prints them), without JSON quoting."""
    return [line.strip().strip(",").strip('"') for line in run.output.splitlines() if line.strip().startswith('"lab-')]


def row(run, cluster, check, obj, *cause):
    """The one table line for (cluster, check, object) whose cause holds every given part."""
    found = [line for line in table(run) if line.split()[:2] == [cluster, check] and obj in line]
    assert len(found) == 1, "no single %s/%s/%s row in:\n%s\n%r" % (cluster, check, obj, "\n".join(table(run)), run)
    for part in cause:
        assert part in found[0], (part, found[0])
    return found[0]


def inventory(tmp_path, hosts):
    """A one-off inventory beside the lab's group_vars."""
    path = tmp_path / "inventory"
    path.mkdir()
    (path / "group_vars").symlink_to(GROUP_VARS)
    write_inventory(path / "hosts.yml", hosts)
    return str(path)


def lab_host(lab, name, group, **extra):
    return dict({"group": group, "cluster_kubeconfig": lab.kubeconfig, "cluster_context": name}, **extra)


@pytest.fixture(scope="module")
def central(ansible, lab, hub):
    """ACS Central running on the hub (converged here, once, if no earlier test did), so that the hub's
    Central endpoint is part of the checks."""
    def deployed():
        return any(c.get("type") == "Deployed" and c.get("status") == "True"
                   for item in hub.list(*CENTRAL, namespace="stackrox")["items"]
                   for c in (item.get("status") or {}).get("conditions") or [])

    if not deployed():
        run = ansible("playbooks/site.yml", limit="lab-hub", env_extra={"ANSIBLE_RUN_TAGS": "acs_central"})
        assert run.rc == 0, run
    assert deployed()
    return "localhost:%s" % lab.clusters["lab-hub"]["central_port"]


def test_a_healthy_lab_is_all_clear_and_nothing_is_written(central, ansible, hub, dev, prod):
    before = snapshot(hub, dev, prod)
    run = ansible(PREFLIGHT, verbosity=1)
    assert run.rc == 0, run
    assert run.changed() == 0, run
    assert "preflight: OK - 3 cluster(s) ready: lab-hub, lab-dev, lab-prod" in run.output, run
    # the hub's Central was found on the hub and answered over TLS verified with its own CA
    assert "ACS Central https://%s/v1/ping" % central in run.output, run
    assert snapshot(hub, dev, prod) == before


def test_every_problem_of_every_cluster_in_one_table(central, ansible, lab, hub, dev, prod, secrets, tmp_path):
    garbage = "preflight-" + pysecrets.token_hex(16)
    secrets.add(garbage)
    dead, dead_central = free_port(), free_port()
    path = inventory(tmp_path, {
        "lab-hub": lab_host(lab, "lab-hub", "hub", acs_central_endpoint="localhost:%d" % dead_central,
                            cluster_operators=[{"name": "quay-operator", "channel": "stable-9.9"}]),
        "lab-dev": lab_host(lab, "lab-dev", "development", devsecops_pipeline_storage_class="no-such-class"),
        "lab-prod": {"group": "production", "cluster_api_url": lab.clusters["lab-prod"]["server"],
                     "cluster_api_token": garbage, "cluster_ca_cert": lab.ca_file},
        "lab-prod-2": {"group": "production", "cluster_api_url": "https://127.0.0.1:%d" % dead,
                       "cluster_api_token": garbage, "cluster_ca_cert": lab.ca_file},
    })
    before = snapshot(hub, dev, prod)
    run = ansible(PREFLIGHT, inventory=path)
    assert run.rc != 0, run
    assert len(table(run)) == 5, run
    row(run, "lab-hub", "packages", "package quay-operator in openshift-marketplace/redhat-operators",
        "channel stable-9.9 does not exist (needed by cluster_operators)", "stable-3.18")
    row(run, "lab-hub", "endpoints", "ACS Central https://localhost:%d/v1/ping" % dead_central,
        "unreachable", "(needed by lab-hub, lab-dev, lab-prod, lab-prod-2)")
    row(run, "lab-dev", "storage_classes", "StorageClass no-such-class",
        "does not exist (needed by devsecops_pipeline); the cluster has", "lab-local")
    row(run, "lab-prod", "authenticated", "API server %s" % lab.clusters["lab-prod"]["server"],
        "credentials refused (HTTP 401)")
    row(run, "lab-prod-2", "reachable", "API server https://127.0.0.1:%d" % dead, "unreachable: connection refused")
    assert "What usually fixes them:" in run.output
    assert "preflight: 5 problem(s) on lab-hub, lab-dev, lab-prod, lab-prod-2 (table above); nothing was changed" \
        in run.output, run
    assert snapshot(hub, dev, prod) == before


def test_limit_to_one_spoke_also_checks_the_hub_it_depends_on(central, ansible, lab, secrets, tmp_path):
    run = ansible(PREFLIGHT, limit="lab-dev")
    assert run.rc == 0, run
    assert set(run.recap) == {"lab-dev"}, run
    assert "preflight: OK - 2 cluster(s) ready: lab-dev, lab-hub" in run.output, run
    dead = free_port()
    garbage = "preflight-" + pysecrets.token_hex(16)
    secrets.add(garbage)
    path = inventory(tmp_path, {
        "lab-hub": {"group": "hub", "cluster_api_url": "https://127.0.0.1:%d" % dead, "cluster_api_token": garbage,
                    "cluster_ca_cert": lab.ca_file},
        "lab-dev": lab_host(lab, "lab-dev", "development"),
        "lab-prod": lab_host(lab, "lab-prod", "production"),
    })
    run = ansible(PREFLIGHT, inventory=path, limit="lab-dev")
    assert run.rc != 0, run
    assert len(table(run)) == 1, run
    row(run, "lab-hub", "reachable", "API server https://127.0.0.1:%d" % dead, "unreachable: connection refused")


def test_site_stops_at_the_preflight_before_its_first_write(ansible, hub, dev, prod):
    before = snapshot(hub, dev, prod)
    run = ansible("playbooks/site.yml", extra_vars={"gitops_channel": "gitops-0.1"})
    assert run.rc != 0, run
    for cluster in ("lab-hub", "lab-dev", "lab-prod"):
        row(run, cluster, "packages", "package openshift-gitops-operator in openshift-marketplace/redhat-operators",
            "channel gitops-0.1 does not exist (needed by gitops)")
    assert "PLAY [Hub, and the spokes" not in run.output, run
    assert snapshot(hub, dev, prod) == before


def test_preflight_skip_and_skip_tags(ansible, tmp_path):
    run = ansible(PREFLIGHT, extra_vars={"gitops_channel": "gitops-0.1", "preflight_skip": ["packages"]})
    assert run.rc == 0, run
    assert "preflight: OK" in run.output, run

    def tasks(*args):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_HOME=str(tmp_path / "home"),
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"))
        proc = subprocess.run(["ansible-playbook", "-i", os.path.join(REPO, "inventories", "example"),
                               os.path.join(REPO, "playbooks", "site.yml"), "--list-tasks"] + list(args),
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout
        return proc.stdout

    assert "Check this cluster against what its components need" in tasks()
    assert "Check this cluster against what its components need" in tasks("--tags", "hub")
    assert "Check this cluster against what its components need" not in tasks("--skip-tags", "preflight")
