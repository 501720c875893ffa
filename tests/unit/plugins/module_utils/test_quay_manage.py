"""Unit tests for module_utils/quay_manage.py: the bootstrap, organizations, application tokens and robots."""

import json

import pytest

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import unb64
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import ADMIN_SCOPES
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay_manage import (
    AppToken,
    Bootstrap,
    Organization,
    QuayError,
    Robot,
    dns_label,
    robot_short_name,
    run,
    scope_set,
)
from fakes import FakeCluster, FakeQuay

NS = "devsecops-multicluster"
BRIDGE_SCOPES = ["org:admin", "repo:admin", "repo:create", "repo:read", "repo:write", "user:admin", "user:read"]


def record(hub, name):
    secret = hub.get("v1", "Secret", name, NS)
    return secret and dict((k, unb64(v)) for k, v in secret["data"].items())


def bootstrap(quay, hub, check_mode=False):
    manager = Bootstrap(quay, hub, {"username": "quayadmin", "email": "a@example.com"}, check_mode=check_mode)
    return manager, run(manager, manager.present)


def test_names():
    assert robot_short_name("lab-dev") == "lab_dev" and robot_short_name("1st") == "r1st"
    assert dns_label("quay-robot-My_Org-x") == "quay-robot-my-org-x"
    assert scope_set("repo:read, repo:write  org:admin") == ["org:admin", "repo:read", "repo:write"]


def test_bootstrap_initializes_once_then_keeps_a_long_lived_automation_token():
    quay, hub = FakeQuay(), FakeCluster("hub")
    manager, result = bootstrap(quay, hub)
    assert manager.changed and result["mechanism"] == "initialize" and not result["reused"]
    kept = record(hub, "quay-admin")
    assert kept["username"] == "quayadmin" and kept["token"] == quay.users["quayadmin"]["token"]
    assert len(kept["password"]) >= 24 and kept["password"] in manager.secret_values
    automation = record(hub, "quay-automation")
    minted = quay.tokens[result["automation"]["id"]]
    assert automation["token"] == minted["token"] and minted["org"] == "devsecops"
    assert sorted(minted["scope"].split()) == sorted(ADMIN_SCOPES.split())
    assert {kept["token"], automation["token"]} <= set(manager.secret_values)
    manager, result = bootstrap(quay, hub)
    assert not manager.changed and result["reused"] and result["automation"]["reused"]
    assert quay.token == automation["token"], "later runs authenticate with the automation token"
    minted = [c for c in quay.calls if c[0] in ("initialize", "mint")]
    assert minted == [("initialize", "quayadmin"), ("mint", "devsecops-multicluster-quayadmin-automation")]


def test_bootstrap_after_the_initialize_token_expired_uses_the_automation_token():
    quay, hub = FakeQuay(), FakeCluster("hub")
    bootstrap(quay, hub)
    quay.users["quayadmin"]["token"] = None  # 150 minutes later
    manager, result = bootstrap(quay, hub)
    assert not manager.changed and result["reused"]
    quay.tokens.clear()  # the automation token revoked behind the collection's back, too
    with pytest.raises(QuayError) as err:
        bootstrap(quay, hub)
    assert "Quay refuses the automation token recorded in devsecops-multicluster/quay-automation and the " \
           "first user's token recorded in devsecops-multicluster/quay-admin" in err.value.message
    assert "no token of a Quay superuser was given" in err.value.message


def test_bootstrap_check_mode_writes_nothing():
    quay, hub = FakeQuay(), FakeCluster("hub")
    manager, _result = bootstrap(quay, hub, check_mode=True)
    assert manager.changed and not quay.calls and record(hub, "quay-admin") is None


def test_bootstrap_disabled_initialization_without_credentials_fails_clearly():
    quay, hub = FakeQuay(initialize="disabled"), FakeCluster("hub")
    with pytest.raises(QuayError) as err:
        bootstrap(quay, hub)
    assert "user initialization is disabled (FEATURE_USER_INITIALIZE" in err.value.message
    assert "no token of a Quay superuser was given" in err.value.message
    # the generated password is kept: a corrected re-run initializes with it
    first = record(hub, "quay-admin")["password"]
    quay.initialize_mode = "ok"
    bootstrap(quay, hub)
    assert quay.users["quayadmin"]["password"] == first


def test_bootstrap_on_a_used_quay_adopts_a_given_superuser_token_only():
    quay, hub = FakeQuay(), FakeCluster("hub")
    quay.users["someone"] = {"token": "tok-plain", "super": False}
    quay.users["root"] = {"token": "tok-root", "super": True}
    with pytest.raises(QuayError) as err:
        bootstrap(quay, hub)
    assert "Cannot initialize user in a non-empty database" in err.value.message
    quay.given = ["tok-plain"]
    with pytest.raises(QuayError) as err:
        bootstrap(quay, hub)
    assert "acts for someone, who is not a Quay superuser" in err.value.message
    quay.given = ["tok-root"]
    manager, result = bootstrap(quay, hub)
    assert result["mechanism"] == "given" and record(hub, "quay-admin")["token"] == "tok-root"
    assert record(hub, "quay-automation")["token"] == quay.tokens[result["automation"]["id"]]["token"]
    assert result["username"] == "root"


def test_bootstrap_refused_recorded_token_is_not_overwritten_without_credentials():
    quay, hub = FakeQuay(), FakeCluster("hub")
    bootstrap(quay, hub)
    quay.users["quayadmin"]["token"] = "rotated-elsewhere"
    quay.tokens.clear()
    with pytest.raises(QuayError) as err:
        bootstrap(quay, hub)
    assert "first user's token recorded in devsecops-multicluster/quay-admin" in err.value.message
    assert record(hub, "quay-admin")["password"] == quay.users["quayadmin"]["password"]


def organization(quay, hub, params, check_mode=False):
    manager = Organization(quay, hub, dict({"name": "devel", "repositories": [], "applications": []}, **params),
                           check_mode=check_mode)
    return manager, run(manager, manager.present)


def test_organization_repositories_and_applications_are_idempotent():
    quay, hub = FakeQuay(), FakeCluster("hub")
    params = {"repositories": [{"name": "example", "visibility": "private"}], "applications": [{"name": "bridge"}]}
    manager, result = organization(quay, hub, params)
    assert manager.changed and result["applications"]["bridge"].startswith("client-")
    manager, again = organization(quay, hub, params)
    assert not manager.changed and again == result
    params["repositories"][0]["visibility"] = "public"
    manager, _result = organization(quay, hub, params)
    assert manager.actions == ["make repository devel/example public"]


def test_organization_name_quay_rejects_fails_before_anything_else():
    quay, hub = FakeQuay(), FakeCluster("hub")
    with pytest.raises(QuayError) as err:
        organization(quay, hub, {"name": "Bad Name", "repositories": [{"name": "x", "visibility": "private"}]})
    assert "organization Bad Name: Quay refused to create it: " in err.value.message
    assert "Invalid namespace" in err.value.message and not quay.orgs


def test_organization_check_mode_and_absent():
    quay, hub = FakeQuay(), FakeCluster("hub")
    manager, _result = organization(quay, hub, {"applications": [{"name": "bridge"}]}, check_mode=True)
    assert manager.changed and not quay.orgs
    organization(quay, hub, {})
    manager = Organization(quay, hub, {"name": "devel"})
    run(manager, manager.absent)
    assert not quay.orgs and manager.actions == ["delete organization devel with everything in it"]


def app_token(quay, hub, rotate=False, check_mode=False, **params):
    base = {"organization": "devsecops", "application": "quay-bridge", "consumer": "lab-dev", "purpose": "bridge",
            "scopes": BRIDGE_SCOPES}
    manager = AppToken(quay, hub, dict(base, **params), check_mode=check_mode)
    return manager, run(manager, lambda: manager.present(rotate=rotate))


def admin_quay():
    quay, hub = FakeQuay(), FakeCluster("hub")
    bootstrap(quay, hub)
    return quay, hub


def test_app_token_minted_once_recorded_and_reused():
    quay, hub = admin_quay()
    manager, result = app_token(quay, hub)
    assert manager.changed and not result["reused"]
    kept = record(hub, "lab-dev-quay-bridge")
    assert kept["hostname"] == "quay.example" and kept["token"] in manager.secret_values
    assert "token" not in result and result["scopes"] == BRIDGE_SCOPES
    manager, again = app_token(quay, hub)
    assert not manager.changed and again["reused"] and again["id"] == result["id"]
    assert [c[1] for c in quay.calls if c[0] == "mint"].count("devsecops-multicluster-lab-dev-bridge") == 1


def test_app_token_rotation_mints_records_then_revokes_the_old():
    quay, hub = admin_quay()
    _m, first = app_token(quay, hub)
    manager, second = app_token(quay, hub, rotate=True)
    assert second["id"] != first["id"] and first["id"] not in quay.tokens
    calls = [c[0] for c in quay.calls]
    assert calls.index("revoke") > max(i for i, c in enumerate(calls) if c == "mint")
    assert record(hub, "lab-dev-quay-bridge")["token"] == quay.tokens[second["id"]]["token"]


def test_app_token_revoked_behind_our_back_or_with_other_scopes_is_replaced():
    quay, hub = admin_quay()
    _m, first = app_token(quay, hub)
    quay.tokens.pop(first["id"])
    manager, second = app_token(quay, hub)
    assert manager.changed and "Quay no longer lists the token" in manager.actions[0]
    manager, third = app_token(quay, hub, scopes=["repo:read"])
    assert "the token has scopes" in manager.actions[0] and second["id"] not in quay.tokens


def test_app_token_check_mode_changes_nothing_and_orphans_are_revoked():
    quay, hub = admin_quay()
    before = set(quay.tokens)
    manager, _result = app_token(quay, hub, check_mode=True)
    assert manager.changed and set(quay.tokens) == before and record(hub, "lab-dev-quay-bridge") is None
    app = quay.create_application("devsecops", "quay-bridge")
    orphan = quay.create_app_token("devsecops", app["client_id"], "devsecops-multicluster-lab-dev-bridge", "repo:read")
    manager, result = app_token(quay, hub)
    assert orphan["uuid"] not in quay.tokens and result["id"] in quay.tokens


def test_app_token_absent_revokes_and_deletes_the_record():
    quay, hub = admin_quay()
    _m, result = app_token(quay, hub)
    manager = AppToken(quay, hub, {"organization": "devsecops", "application": "quay-bridge", "consumer": "lab-dev",
                                   "purpose": "bridge"})
    run(manager, manager.absent)
    assert result["id"] not in quay.tokens and record(hub, "lab-dev-quay-bridge") is None


def test_app_token_needs_scopes_and_an_organization():
    quay, hub = admin_quay()
    with pytest.raises(QuayError) as err:
        app_token(quay, hub, scopes=[])
    assert "scopes is required" in err.value.message
    with pytest.raises(QuayError) as err:
        app_token(quay, hub, organization="nope")
    assert "the organization nope does not exist" in err.value.message


def robot(quay, hub, rotate=False, check_mode=False, **params):
    base = {"organization": "devel", "name": "lab_dev_pull", "consumer": "lab-dev", "record_name": "lab-dev-quay-pull",
            "permissions": [{"repository": "example", "role": "read"}]}
    manager = Robot(quay, hub, dict(base, **params), check_mode=check_mode)
    return manager, run(manager, lambda: manager.present(rotate=rotate))


def robot_quay():
    quay, hub = admin_quay()
    quay.create_organization("devel")
    quay.create_repository("devel", "example", "private")
    return quay, hub


def test_robot_created_with_permissions_and_recorded_as_a_docker_config():
    quay, hub = robot_quay()
    manager, result = robot(quay, hub)
    assert result["name"] == "devel+lab_dev_pull" and result["created"]
    secret = hub.get("v1", "Secret", "lab-dev-quay-pull", NS)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(unb64(secret["data"][".dockerconfigjson"]))["auths"]
    token = quay.robots["devel+lab_dev_pull"]["token"]
    assert unb64(auths["quay.example"]["auth"]) == "devel+lab_dev_pull:" + token
    assert token in manager.secret_values
    assert quay.permissions[("devel", "example", "devel+lab_dev_pull")] == "read"
    manager, again = robot(quay, hub)
    assert not manager.changed and again["fingerprint"] == result["fingerprint"]


def test_robot_rotation_and_a_token_regenerated_elsewhere_are_recorded():
    quay, hub = robot_quay()
    _m, first = robot(quay, hub)
    manager, rotated = robot(quay, hub, rotate=True)
    assert rotated["rotated"] and rotated["fingerprint"] != first["fingerprint"]
    quay.regenerate_robot("devel", "lab_dev_pull")
    manager, again = robot(quay, hub)
    assert "the token at Quay differs from the record" in manager.actions[-1]
    token = quay.robots["devel+lab_dev_pull"]["token"]
    assert token in record(hub, "lab-dev-quay-pull")[".dockerconfigjson"]


def test_robot_bad_input_fails_clearly_before_any_write():
    quay, hub = robot_quay()
    with pytest.raises(QuayError) as err:
        robot(quay, hub, name="Lab-Dev")
    assert "'Lab-Dev' is not a robot name Quay accepts" in err.value.message
    with pytest.raises(QuayError) as err:
        robot(quay, hub, permissions=[{"repository": "missing", "role": "read"}])
    assert "cannot grant read on devel/missing" in err.value.message
    with pytest.raises(QuayError) as err:
        robot(quay, hub, organization="nope")
    assert "the organization nope does not exist at Quay" in err.value.message


def test_robot_check_mode_and_absent():
    quay, hub = robot_quay()
    manager, _result = robot(quay, hub, check_mode=True)
    assert manager.changed and not quay.robots and record(hub, "lab-dev-quay-pull") is None
    robot(quay, hub)
    manager = Robot(quay, hub, {"organization": "devel", "name": "lab_dev_pull", "record_name": "lab-dev-quay-pull"})
    run(manager, manager.absent)
    assert not quay.robots and record(hub, "lab-dev-quay-pull") is None


def test_app_token_on_a_quay_without_the_token_api_says_which_version_is_needed():
    from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
    quay, hub = admin_quay()

    def missing(org, client_id):
        raise RestError("Quay https://quay.example:443: GET /api/v1/organization/devsecops/applications/x/tokens: "
                        "HTTP 404: Not Found", 404)
    quay.app_tokens = missing
    with pytest.raises(QuayError) as err:
        app_token(quay, hub)
    assert "Quay has no application token API" in err.value.message and "Quay 3.18 or later" in err.value.message
    assert record(hub, "lab-dev-quay-bridge") is None
