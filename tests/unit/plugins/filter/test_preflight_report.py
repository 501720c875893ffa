"""Unit tests for the preflight_report filter: one table of every cluster's problems."""

from ansible_collections.devsecops.multicluster.plugins.filter.preflight import FilterModule, preflight_report


def result(cluster, *problems):
    return {"cluster": cluster, "facts": {}, "problems": [
        {"check": c, "object": o, "cause": cause, "hint": h} for c, o, cause, h in problems]}


def test_all_clear_is_one_line():
    report = preflight_report(["lab-hub", "lab-dev"], [result("lab-hub"), result("lab-dev")])
    assert report["problems"] == 0 and report["table"] == [] and report["hints"] == []
    assert report["summary"] == "preflight: OK - 2 cluster(s) ready: lab-hub, lab-dev"
    assert FilterModule().filters()["preflight_report"] is preflight_report


def test_one_aligned_table_across_clusters_with_hints_once():
    report = preflight_report(["lab-hub", "lab-dev", "lab-prod"], [
        result("lab-hub", ("packages", "package x in ns/src", "channel y does not exist", "pin a channel")),
        result("lab-dev", ("reachable", "API server https://127.0.0.1:1", "unreachable: connection refused",
                           "check the URL")),
        result("lab-prod", ("packages", "package z in ns/src", "the catalog has\nno such package", "pin a channel"),
               ("storage_classes", "default StorageClass", "none is marked default", None)),
    ])
    assert report["problems"] == 4 and report["clusters"] == ["lab-hub", "lab-dev", "lab-prod"]
    header, rule, *lines = report["table"]
    assert header.split() == ["CLUSTER", "CHECK", "OBJECT", "CAUSE"]
    assert set(rule.replace("  ", "")) == {"-"}
    assert lines[0].startswith("lab-hub   packages         package x in ns/src             channel y does not exist")
    assert lines[1].startswith("lab-dev   reachable        API server https://127.0.0.1:1 ")
    assert lines[2].endswith("the catalog has no such package")  # one line per problem
    assert report["hints"] == ["packages: pin a channel", "reachable: check the URL"]
    assert "4 problem(s) on lab-hub, lab-dev, lab-prod" in report["summary"] and "nothing was changed" in \
        report["summary"]
    cause_column = header.index("CAUSE")
    assert all(line[cause_column - 2:cause_column] == "  " for line in lines)


def test_a_host_without_result_is_a_problem_and_extra_results_count():
    report = preflight_report(["lab-dev", "lab-prod"], [result("lab-dev"), None],
                              extra=[result("lab-hub", ("reachable", "API server", "unreachable: refused", "x")), None])
    assert [(r["cluster"], r["check"]) for r in report["rows"]] == [("lab-prod", "preflight"), ("lab-hub", "reachable")]
    assert report["checked"] == ["lab-dev", "lab-hub"]
    report = preflight_report(["lab-dev"], [])
    assert report["rows"][0]["cause"].startswith("the checks did not finish")
