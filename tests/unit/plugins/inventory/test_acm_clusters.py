"""Unit tests for the acm_clusters inventory plugin's grouping and host variables."""

from ansible_collections.devsecops.multicluster.plugins.inventory.acm_clusters import plan


def mc(name, group=None, available=True, **labels):
    if group:
        labels["clusterGroup"] = group
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"managedClusterClientConfigs": [{"url": "https://api.%s:6443" % name}]},
            "status": {"conditions": [
                {"type": "ManagedClusterJoined", "status": "True"},
                {"type": "ManagedClusterConditionAvailable", "status": "True" if available else "Unknown"}],
                "version": {"kubernetes": "v1.34.4"}}}


def test_groups_by_cluster_group_and_named_labels():
    hosts, groups = plan([mc("dev-east", "development", region="us-east"), mc("prod-1", "production"),
                          mc("local-cluster", None), mc("odd", "qa")], group_by_labels=["region"])
    assert sorted(hosts) == ["dev-east", "odd", "prod-1"]
    assert groups == {"development": ["dev-east"], "production": ["prod-1"], "region_us_east": ["dev-east"]}
    assert hosts["dev-east"]["cluster_api_url"] == "https://api.dev-east:6443"
    assert hosts["dev-east"]["acm_available"] is True and hosts["dev-east"]["acm_joined"] is True
    assert hosts["dev-east"]["acm_kubernetes_version"] == "v1.34.4"
    assert hosts["dev-east"]["ansible_connection"] == "local"


def test_local_cluster_and_unavailable_filters():
    items = [mc("local-cluster"), mc("down", "development", available=False)]
    hosts, _groups = plan(items, include_local_cluster=True)
    assert sorted(hosts) == ["down", "local-cluster"]
    assert hosts["down"]["acm_available"] is False
    hosts, groups = plan(items, only_available=True)
    assert hosts == {} and groups == {}


def test_cluster_without_status_or_client_config():
    hosts, _groups = plan([{"metadata": {"name": "new"}}])
    assert hosts["new"]["acm_available"] is False and "cluster_api_url" not in hosts["new"]
    assert hosts["new"]["acm_conditions"] == []
