"""Unit tests for the cluster_connection filter."""

from ansible_collections.devsecops.multicluster.plugins.filter.connection import FilterModule, cluster_connection


def test_only_the_hosts_own_set_variables_are_used():
    host_vars = {"cluster_api_url": "https://api.dev:6443", "cluster_api_token": "t0ken", "cluster_context": "",
                 "cluster_validate_certs": False, "ansible_connection": "local", "K8S_AUTH_HOST": "ignored"}
    assert cluster_connection(host_vars) == {"host": "https://api.dev:6443", "api_key": "t0ken",
                                             "validate_certs": False}


def test_name_adds_cluster_name_and_kubeconfig_pairs_with_context():
    host_vars = {"cluster_kubeconfig": "/k", "cluster_context": "hub"}
    assert cluster_connection(host_vars, name="lab-hub") == {"kubeconfig": "/k", "context": "hub",
                                                             "cluster_name": "lab-hub"}
    assert cluster_connection({}) == {}
    assert FilterModule().filters()["cluster_connection"] is cluster_connection
