"""Spoke registration on the lab: ACM import with a minted token, Argo CD registration, rotation,
revocation behind the collection's back, teardown, and bad input."""

import base64
import json
import os
import subprocess

import pytest
import requests
import yaml

from conftest import PLAYBOOKS, REPO, write_inventory

MC = ("cluster.open-cluster-management.io/v1", "managedclusters")
SPOKES = {"lab-dev": "development", "lab-prod": "production"}
RECORDS = "devsecops-multicluster"


def decode(secret):
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def who(lab, cluster, token):
    """The user a token authenticates as on a lab cluster (None if rejected)."""
    resp = requests.post(lab.clusters[cluster]["server"] + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                         json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                         headers={"Authorization": "Bearer " + token}, verify=lab.ca_file, timeout=10)
    if resp.status_code == 401:
        return None
    resp.raise_for_status()
    return resp.json()["status"]["userInfo"]["username"]


def argocd_token(hub, spoke):
    secret = hub.get("v1", "secrets", "%s-cluster" % spoke, "openshift-gitops")
    return json.loads(decode(secret)["config"])["bearerToken"]


def remember_tokens(hub, secrets):
    for record in hub.list("v1", "secrets", namespace=RECORDS)["items"]:
        secrets.add(decode(record).get("token"))


@pytest.fixture(scope="module")
def registered(ansible, hub, secrets):
    # The rotations below renew every kind of credential on the spokes (ACS, Quay, signing, Argo CD), so the
    # whole platform is converged first, not only the hub: the module runs after any other on its lab.
    site = ansible("playbooks/site.yml")
    assert site.rc == 0, site
    run = ansible("playbooks/register_clusters.yml")
    remember_tokens(hub, secrets)
    secrets.scan(run.output, "register_clusters.yml")
    return run


class TestRegistration:
    def test_spokes_are_imported_and_registered(self, registered, lab, hub):
        assert registered.rc == 0, registered
        for spoke, group in SPOKES.items():
            mc = hub.get(*MC, name=spoke)
            labels = mc["metadata"]["labels"]
            assert labels["clusterGroup"] == group
            assert labels["cluster.open-cluster-management.io/clusterset"] == group
            conditions = {c["type"]: c["status"] for c in mc["status"]["conditions"]}
            assert conditions["ManagedClusterJoined"] == "True"
            assert conditions["ManagedClusterConditionAvailable"] == "True"
            assert hub.get("agent.open-cluster-management.io/v1", "klusterletaddonconfigs", spoke, spoke)
            # the import really reached the spoke, and its one-time credential is gone again
            assert lab.kube(spoke).get_or_none("v1", "namespaces", "open-cluster-management-agent")
            assert hub.get_or_none("v1", "secrets", "auto-import-secret", spoke) is None
            assert hub.get_or_none("v1", "secrets", "%s-acm-import" % spoke, RECORDS) is None
            assert lab.kube(spoke).get_or_none("v1", "serviceaccounts", "devsecops-multicluster-acm-import",
                                               "devsecops-multicluster") is None
            # Argo CD: a cluster secret whose token works on the spoke as the argocd service account
            secret = hub.get("v1", "secrets", "%s-cluster" % spoke, "openshift-gitops")
            assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
            data = decode(secret)
            assert data["name"] == spoke and data["server"] == lab.clusters[spoke]["server"]
            config = json.loads(data["config"])
            assert config["tlsClientConfig"]["insecure"] is False and config["tlsClientConfig"]["caData"]
            assert who(lab, spoke, config["bearerToken"]) == \
                "system:serviceaccount:devsecops-multicluster:devsecops-multicluster-argocd"
            record = hub.get("v1", "secrets", "%s-argocd" % spoke, RECORDS)
            assert record["metadata"]["labels"]["devsecops.multicluster/cluster"] == spoke
            assert record["metadata"]["annotations"]["devsecops.multicluster/token-type"] == "long-lived"

    def test_inventory_plugin_lists_spokes_and_their_credentials(self, registered, lab, hub, secrets, tmp_path):
        spoke_config = {"apiVersion": "v1", "kind": "Config", "current-context": "lab-dev-token",
                        "clusters": [{"name": "lab-dev", "cluster": {
                            "server": lab.clusters["lab-dev"]["server"],
                            "certificate-authority-data": base64.b64encode(open(lab.ca_file, "rb").read()).decode()}}],
                        "users": [{"name": "admin", "user": {"token": lab.clusters["lab-dev"]["admin_token"]}}],
                        "contexts": [{"name": "lab-dev-token", "context": {"cluster": "lab-dev", "user": "admin"}}]}
        hub.delete("v1", "secrets", "lab-dev-admin-kubeconfig", "lab-dev")
        hub.create("v1", "secrets", {"apiVersion": "v1", "kind": "Secret",
                                     "metadata": {"name": "lab-dev-admin-kubeconfig", "namespace": "lab-dev"},
                                     "stringData": {"kubeconfig": json.dumps(spoke_config)}}, namespace="lab-dev")
        source = tmp_path / "acm_clusters.yml"
        source.write_text(yaml.safe_dump({"plugin": "devsecops.multicluster.acm_clusters",
                                          "kubeconfig": lab.kubeconfig, "context": "lab-hub",
                                          "group_by_labels": ["vendor"], "credentials": {}}))
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                   ANSIBLE_INVENTORY_ENABLED="devsecops.multicluster.acm_clusters")
        listing = subprocess.run(["ansible-inventory", "-i", str(source), "--list"], env=env, cwd=REPO,
                                 capture_output=True, text=True, timeout=120, check=False)
        secrets.scan(listing.stdout + listing.stderr, "ansible-inventory acm_clusters")
        assert listing.returncode == 0, listing.stderr
        inventory = json.loads(listing.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d))
        assert inventory["development"]["hosts"] == ["lab-dev"]
        assert inventory["production"]["hosts"] == ["lab-prod"]
        assert set(inventory["spokes"]["children"]) >= {"development", "production"}
        assert sorted(inventory["vendor_OpenShift"]["hosts"]) == ["lab-dev", "lab-prod"]
        dev_vars = inventory["_meta"]["hostvars"]["lab-dev"]
        assert dev_vars["acm_available"] is True and dev_vars["acm_labels"]["clusterGroup"] == "development"
        assert dev_vars["cluster_context"] == "lab-dev-token"
        assert oct(os.stat(dev_vars["cluster_kubeconfig"]).st_mode & 0o777) == "0o600"
        assert "cluster_kubeconfig" not in inventory["_meta"]["hostvars"]["lab-prod"]
        run = subprocess.run(["ansible-playbook", "-i", str(source), os.path.join(PLAYBOOKS, "ready.yml"),
                              "-e", "devsecops_hosts=lab-dev",
                              "-e", json.dumps({"ready": {"kind": "Namespace", "name": "default",
                                                          "condition": "status.phase == 'Active'"}})],
                             env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
        secrets.scan(run.stdout + run.stderr, "playbook on the acm_clusters inventory")
        assert run.returncode == 0, run.stdout[-3000:]
        hub.delete("v1", "secrets", "lab-dev-admin-kubeconfig", "lab-dev")

    def test_second_run_changes_nothing(self, registered, ansible, hub):
        tokens = {spoke: argocd_token(hub, spoke) for spoke in SPOKES}
        run = ansible("playbooks/register_clusters.yml")
        assert run.rc == 0 and run.changed() == 0, run
        assert {spoke: argocd_token(hub, spoke) for spoke in SPOKES} == tokens

    def test_aap_style_credentials_one_per_cluster_and_no_k8s_auth_leak(self, registered, ansible, lab, tmp_path):
        """docs/aap.md: each cluster's token reaches the job as DEVSECOPS_CLUSTER_<HOST>_TOKEN (and its CA as a
        file), read by one group_vars line; K8S_AUTH_* in the job's environment (what AAP's built-in Kubernetes
        credential injects) point at nothing that works and must change nothing."""
        inventory = tmp_path / "aap"
        (inventory / "group_vars").mkdir(parents=True)
        hosts = {name: {"group": "hub" if name == "lab-hub" else SPOKES[name], "cluster_api_url": info["server"]}
                 for name, info in lab.clusters.items() if name in ("lab-hub",) + tuple(SPOKES)}
        write_inventory(inventory / "hosts.yml", hosts)
        (inventory / "group_vars" / "all.yml").write_text(
            "__cluster_env: \"DEVSECOPS_CLUSTER_{{ inventory_hostname | upper | regex_replace('[^A-Z0-9]', '_') }}\"\n"
            "cluster_api_token: \"{{ lookup('ansible.builtin.env', __cluster_env ~ '_TOKEN') }}\"\n"
            "cluster_ca_cert: \"{{ lookup('ansible.builtin.env', __cluster_env ~ '_CA_FILE') }}\"\n")
        env = {"K8S_AUTH_HOST": "https://127.0.0.1:1", "K8S_AUTH_API_KEY": "not-a-token-" * 3,
               "K8S_AUTH_KUBECONFIG": str(tmp_path / "missing-kubeconfig"), "K8S_AUTH_VERIFY_SSL": "false"}
        for name in hosts:
            prefix = "DEVSECOPS_CLUSTER_" + name.upper().replace("-", "_")
            env[prefix + "_TOKEN"] = lab.clusters[name]["admin_token"]
            env[prefix + "_CA_FILE"] = lab.ca_file
        run = ansible("playbooks/register_clusters.yml", inventory=str(inventory), env_extra=env)
        assert run.rc == 0 and run.changed() == 0, run
        assert set(run.recap) == set(SPOKES), run

    def test_check_mode_writes_nothing(self, registered, ansible, hub, dev):
        before = [o["metadata"]["resourceVersion"] for o in hub.list("v1", "secrets", namespace=RECORDS)["items"]]
        run = ansible("playbooks/register_clusters.yml", check=True)
        assert run.rc == 0 and run.changed() == 0, run
        assert [o["metadata"]["resourceVersion"] for o in hub.list("v1", "secrets", namespace=RECORDS)["items"]] \
            == before

    def test_token_revoked_behind_the_back_is_detected_and_reminted(self, registered, ansible, lab, hub, dev,
                                                                     secrets):
        old = argocd_token(hub, "lab-dev")
        record = hub.get("v1", "secrets", "lab-dev-argocd", RECORDS)
        holder = record["metadata"]["annotations"]["devsecops.multicluster/holder"]
        dev.delete("v1", "secrets", holder, "devsecops-multicluster")
        dev.wait_for(lambda: who(lab, "lab-dev", old) is None, timeout=30, what="revoked token rejected")
        run = ansible("playbooks/rotate_credentials.yml", limit="lab-dev", verbosity=2)
        remember_tokens(hub, secrets)
        secrets.scan(run.output, "rotate_credentials.yml")
        assert run.rc == 0, run
        new = argocd_token(hub, "lab-dev")
        assert new != old
        assert who(lab, "lab-dev", new) == "system:serviceaccount:devsecops-multicluster:devsecops-multicluster-argocd"
        assert run.changed("lab-dev") >= 2, run

    def test_rotation_replaces_and_revokes_a_valid_token(self, registered, ansible, lab, hub, secrets):
        old = argocd_token(hub, "lab-prod")
        run = ansible("playbooks/rotate_credentials.yml", limit="lab-prod")
        remember_tokens(hub, secrets)
        assert run.rc == 0, run
        new = argocd_token(hub, "lab-prod")
        assert new != old
        assert who(lab, "lab-prod", old) is None, "the old token was revoked"
        assert who(lab, "lab-prod", new) is not None

    def test_failed_import_is_reported_and_a_corrected_run_fixes_it(self, registered, ansible, lab, hub):
        unregister = ansible("playbooks/register_clusters.yml", limit="lab-prod",
                             extra_vars={"registration_state": "absent"})
        assert unregister.rc == 0, unregister
        hub.wait_for(lambda: hub.get_or_none(*MC, name="lab-prod") is None, timeout=30, what="ManagedCluster gone")
        bad = ansible("playbooks/register_clusters.yml", limit="lab-prod",
                      extra_vars={"registration_server": "https://127.0.0.1:1", "registration_import_timeout": 60,
                                  "registration_argocd": False, "registration_secure_logging": False})
        assert bad.rc != 0
        assert "ManagedCluster lab-prod reached its failure condition" in bad.output, bad
        assert "ManagedClusterImportFailed" in bad.output and "127.0.0.1:1" in bad.output, bad
        good = ansible("playbooks/register_clusters.yml", limit="lab-prod")
        assert good.rc == 0, good
        conditions = {c["type"]: c["status"] for c in hub.get(*MC, name="lab-prod")["status"]["conditions"]}
        assert conditions["ManagedClusterConditionAvailable"] == "True"


def test_unreachable_spoke_fails_before_anything_is_written_on_the_hub(ansible, lab, hub, tmp_path):
    hosts = {"lab-hub": {"group": "hub", "cluster_kubeconfig": lab.kubeconfig, "cluster_context": "lab-hub"},
             "ghost": {"group": "development", "cluster_api_url": "https://127.0.0.1:1",
                       "cluster_api_token": "x" * 32, "cluster_ca_cert": lab.ca_file}}
    inventory = write_inventory(tmp_path / "hosts.yml", hosts)
    run = ansible("playbooks/register_clusters.yml", inventory=inventory,
                  extra_vars={"registration_secure_logging": False})
    assert run.rc != 0
    assert "cluster ghost: API server at https://127.0.0.1:1 unreachable" in run.output, run
    assert hub.get_or_none(*MC, name="ghost") is None
    assert hub.get_or_none("v1", "namespaces", "ghost") is None


def test_hub_without_acm_fails_before_registering(ansible, lab, prod, tmp_path):
    hosts = {"lab-prod": {"group": "hub", "cluster_kubeconfig": lab.kubeconfig, "cluster_context": "lab-prod"},
             "lab-dev": {"group": "development", "cluster_kubeconfig": lab.kubeconfig, "cluster_context": "lab-dev"}}
    inventory = write_inventory(tmp_path / "hosts.yml", hosts)
    run = ansible("playbooks/register_clusters.yml", inventory=inventory)
    assert run.rc != 0
    assert "lab-dev: cannot register with hub lab-prod: it has no Running MultiClusterHub" in run.output, run
    assert prod.get_or_none(*MC, name="lab-dev") is None
