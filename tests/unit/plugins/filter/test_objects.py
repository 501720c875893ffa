"""Unit tests for the namespace_objects, satisfies and components_stage filters."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.devsecops.multicluster.plugins.filter.objects import (
    FilterModule,
    components_stage,
    namespace_objects,
)


def test_one_labelled_namespace_per_distinct_name_in_order():
    objects = namespace_objects(["b", "a", "b"], labels={"team": "x"})
    assert [o["metadata"]["name"] for o in objects] == ["b", "a"]
    assert objects[0] == {"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": "b", "labels": {"app.kubernetes.io/managed-by": "devsecops.multicluster",
                                                               "team": "x"}}}
    assert namespace_objects([]) == []
    assert FilterModule().filters()["namespace_objects"] is namespace_objects


@pytest.mark.parametrize("names, labels, message", [
    ("team-a", None, "expected a list of namespace names"),
    ([""], None, "is not a namespace name"),
    ([3], None, "is not a namespace name"),
    (["a"], ["x"], "labels must be a dict"),
])
def test_bad_input_is_a_clear_error(names, labels, message):
    with pytest.raises(AnsibleFilterError, match=message):
        namespace_objects(names, labels=labels)


READY = "status.conditions[?type=='Ready'].status | [0] == 'True'"


def test_satisfies_reads_conditions_like_resource_ready():
    from ansible_collections.devsecops.multicluster.plugins.filter.objects import satisfies
    ready = {"metadata": {"name": "config"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert satisfies(ready, READY) is True
    assert satisfies({"metadata": {"name": "config"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
                     READY) is False
    assert satisfies({"metadata": {"uid": "1"}}, "metadata.uid") is True
    assert satisfies({"status": {"phase": ""}}, "status.phase") is False, "an empty string is not truthy"
    assert satisfies({}, "metadata.uid") is False and satisfies(None, "metadata.uid") is False
    assert FilterModule().filters()["satisfies"] is satisfies


def test_satisfies_invalid_condition_names_it():
    from ansible_collections.devsecops.multicluster.plugins.filter.objects import satisfies
    with pytest.raises(AnsibleFilterError, match="satisfies: condition is not a valid JMESPath expression"):
        satisfies({"a": 1}, "status.[[")


DEVELOPMENT = ["gitops", "pipelines", "chains", "quay_bridge", "quay_pull_secrets", "acs_secured_cluster",
               "devsecops_pipeline"]


def test_components_stage_splits_a_profile_in_order():
    assert components_stage(DEVELOPMENT) == DEVELOPMENT
    assert components_stage(DEVELOPMENT, "all") == DEVELOPMENT
    assert components_stage(DEVELOPMENT, "own") == ["gitops", "pipelines", "chains"]
    assert components_stage(DEVELOPMENT, "hub_dependent") == ["quay_bridge", "quay_pull_secrets",
                                                              "acs_secured_cluster", "devsecops_pipeline"]
    # reversed (teardown) stays reversed; a component moved into another profile keeps its stage
    assert components_stage(["tracee", "acs_secured_cluster", "kyverno", "trivy_operator"], "own") == [
        "tracee", "trivy_operator"]
    assert components_stage(["gitops", "kyverno", "acs_secured_cluster"], "hub_dependent") == [
        "kyverno", "acs_secured_cluster"]
    assert components_stage(list(reversed(DEVELOPMENT)), "hub_dependent")[0] == "devsecops_pipeline"
    assert components_stage([], "own") == []
    assert FilterModule().filters()["components_stage"] is components_stage


@pytest.mark.parametrize("components, stage, message", [
    ("gitops", "all", "expected a list of component names"),
    (["gitops"], "later", "stage must be one of all, own, hub_dependent"),
    ([""], "own", "is not a component name"),
    ([None], "all", "is not a component name"),
])
def test_components_stage_bad_input_is_a_clear_error(components, stage, message):
    with pytest.raises(AnsibleFilterError, match=message):
        components_stage(components, stage)
