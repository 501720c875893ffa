"""Unit tests for module_utils/acs.py: registration material and API tokens, with an in-memory Central."""

import base64
import json

import pytest

from ansible_collections.devsecops.multicluster.plugins.module_utils.acs import (
    AcsError,
    ApiToken,
    Registration,
    material_secrets,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import ANNOTATION
from fakes import FakeCentral, FakeClock, FakeCluster


def _registration(central, hub, spoke, check_mode=False, **params):
    base = {"secured_cluster": "dev", "mechanism": "auto", "namespace": "stackrox", "wait_timeout": 30}
    base.update(params)
    clock = FakeClock()
    return Registration(central, hub, spoke, base, check_mode=check_mode, clock=clock, sleep=clock.sleep)


@pytest.fixture
def world():
    return FakeCentral(), FakeCluster("hub"), FakeCluster("dev")


def test_first_run_mints_a_crs_records_it_and_delivers_it(world):
    central, hub, spoke = world
    manager = _registration(central, hub, spoke)
    result = manager.present()
    assert result["mechanism"] == "crs" and result["name"] == "dev" and result["reused"] is False
    record = hub.find("Secret", "dev-acs-registration", "devsecops-multicluster")
    assert record["metadata"]["annotations"][ANNOTATION + "id"] == result["id"]
    assert record["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "devsecops.multicluster"
    copy = spoke.find("Secret", "cluster-registration-secret", "stackrox")
    assert copy["data"]["crs"] and copy["metadata"]["annotations"][ANNOTATION + "id"] == result["id"]
    assert any("K-" + result["id"] in v for v in manager.secret_values)


def test_second_run_changes_nothing(world):
    central, hub, spoke = world
    _registration(central, hub, spoke).present()
    writes = (len(hub.writes), len(spoke.writes))
    again = _registration(central, hub, spoke)
    calls = len(central.calls)
    result = again.present()
    assert result["reused"] is True and again.changed is False
    assert (len(hub.writes), len(spoke.writes)) == writes
    assert [c for c in central.calls if c[0] == "generate"] == [("generate", "crs", "dev")]
    assert central.calls[calls:] == [("list", "crs")], "a converged run reads Central's listing once"


def test_lost_copy_on_the_spoke_is_rewritten_from_the_record(world):
    central, hub, spoke = world
    _registration(central, hub, spoke).present()
    spoke.delete("v1", "Secret", "cluster-registration-secret", "stackrox")
    again = _registration(central, hub, spoke)
    assert again.present()["reused"] is True and again.changed
    assert spoke.find("Secret", "cluster-registration-secret", "stackrox")
    assert len([c for c in central.calls if c[0] == "generate"]) == 1


def test_lost_record_with_material_at_central_fails_and_offers_rotation(world):
    central, hub, spoke = world
    _registration(central, hub, spoke).present()
    hub.delete("v1", "Secret", "dev-acs-registration", "devsecops-multicluster")
    with pytest.raises(AcsError) as err:
        _registration(central, hub, spoke).present()
    assert "Central already has crs dev" in err.value.message and "Rotate" in err.value.message
    assert len([c for c in central.calls if c[0] == "generate"]) == 1


def test_rotation_mints_applies_waits_then_revokes_the_old(world):
    central, hub, spoke = world
    first = _registration(central, hub, spoke).present()
    central.healthy("dev")
    second = _registration(central, hub, spoke).present(rotate=True)
    assert second["name"].startswith("dev-") and len(second["name"]) == len("dev-") + 14
    assert ("revoke", "crs", (first["id"],)) in central.calls
    record = hub.find("Secret", "dev-acs-registration", "devsecops-multicluster")
    assert json.loads(record["metadata"]["annotations"][ANNOTATION + "pending-revocation"]) == []
    copy = spoke.find("Secret", "cluster-registration-secret", "stackrox")
    assert copy["metadata"]["annotations"][ANNOTATION + "id"] == second["id"]


def test_rotation_that_never_gets_healthy_keeps_the_old_for_the_next_run(world):
    central, hub, spoke = world
    first = _registration(central, hub, spoke).present()
    with pytest.raises(AcsError) as err:
        _registration(central, hub, spoke).present(rotate=True)
    assert "did not report healthy" in err.value.message and "Central does not list cluster dev" in err.value.message
    assert not any(c[0] == "revoke" for c in central.calls)
    record = hub.find("Secret", "dev-acs-registration", "devsecops-multicluster")
    assert [e["id"] for e in json.loads(record["metadata"]["annotations"][ANNOTATION + "pending-revocation"])] \
        == [first["id"]]
    central.healthy("dev")
    _registration(central, hub, spoke).present()
    assert ("revoke", "crs", (first["id"],)) in central.calls


def test_material_revoked_behind_our_back_is_replaced(world):
    central, hub, spoke = world
    first = _registration(central, hub, spoke).present()
    central.registrations[first["id"]]["revoked"] = True
    central.healthy("dev")
    again = _registration(central, hub, spoke).present()
    assert again["reused"] is False and "revoked or expired" in again["reason"] and again["name"] == "dev"


def test_init_bundle_mechanism_and_refusal_to_revoke_a_bundle_other_clusters_use(world):
    central, hub, spoke = world
    first = _registration(central, hub, spoke, mechanism="init_bundle").present()
    assert first["mechanism"] == "init-bundle"
    assert sorted(n for (k, ns, n) in spoke.objects if k == "Secret") == [
        "admission-control-tls", "collector-tls", "sensor-tls"]
    central.bundles[first["id"]]["impactedClusters"] = [{"id": "c-dev", "name": "dev"}, {"id": "c-x", "name": "x"}]
    central.healthy("dev")
    with pytest.raises(AcsError) as err:
        _registration(central, hub, spoke, mechanism="init_bundle").present(rotate=True)
    assert "also used by cluster(s) x; not revoking it" in err.value.message
    assert not central.bundles[first["id"]].get("revoked")


def test_init_bundle_used_only_by_this_cluster_is_revoked_with_confirmation(world):
    central, hub, spoke = world
    first = _registration(central, hub, spoke, mechanism="init_bundle").present()
    central.bundles[first["id"]]["impactedClusters"] = [{"id": "c-dev", "name": "dev"}]
    central.healthy("dev")
    _registration(central, hub, spoke, mechanism="init_bundle").present(rotate=True)
    assert ("revoke", "init-bundle", (first["id"],), ("c-dev",)) in central.calls


def test_switching_mechanism_removes_the_old_secrets_from_the_spoke(world):
    central, hub, spoke = world
    _registration(central, hub, spoke, mechanism="init_bundle").present()
    central.healthy("dev")
    _registration(central, hub, spoke, mechanism="crs").present()
    names = sorted(n for (k, ns, n) in spoke.objects if k == "Secret")
    assert names == ["cluster-registration-secret"]


def test_crs_asked_for_where_central_has_none(world):
    _central, hub, spoke = world
    central = FakeCentral(crs=False)
    with pytest.raises(AcsError) as err:
        _registration(central, hub, spoke, mechanism="crs").present()
    assert "does not serve cluster registration secrets" in err.value.message
    assert _registration(central, hub, spoke).present()["mechanism"] == "init-bundle"


def test_check_mode_writes_nothing(world):
    central, hub, spoke = world
    manager = _registration(central, hub, spoke, check_mode=True)
    result = manager.present()
    assert manager.changed and result["reused"] is False
    assert hub.writes == [] and spoke.writes == [] and [c for c in central.calls if c[0] != "list"] == []


def test_invalid_name_and_missing_target(world):
    central, hub, spoke = world
    with pytest.raises(AcsError) as err:
        _registration(central, hub, spoke, secured_cluster="dev east")
    assert "not a valid init bundle / CRS name" in err.value.message
    with pytest.raises(AcsError) as err:
        _registration(central, hub, None).present()
    assert "target" in err.value.message


def test_absent_revokes_everything_and_deletes_the_copies(world):
    central, hub, spoke = world
    first = _registration(central, hub, spoke).present()
    central.healthy("dev")
    manager = _registration(central, hub, spoke)
    result = manager.absent()
    assert result["revoked"] == 1 and ("revoke", "crs", (first["id"],)) in central.calls
    assert ("delete-cluster", "c-dev") in central.calls
    assert hub.find("Secret", "dev-acs-registration", "devsecops-multicluster") is None
    assert spoke.find("Secret", "cluster-registration-secret", "stackrox") is None
    again = _registration(central, hub, spoke)
    again.absent()
    assert again.changed is False


def test_material_secrets_rejects_non_secrets():
    with pytest.raises(AcsError):
        material_secrets("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(AcsError):
        material_secrets("")


def _token(central, hub, check_mode=False, **params):
    base = {"consumer": "dev", "purpose": "ci", "roles": ["Continuous Integration"]}
    base.update(params)
    return ApiToken(central, hub, base, check_mode=check_mode)


def test_token_is_minted_once_and_reused():
    central, hub = FakeCentral(), FakeCluster("hub")
    first = _token(central, hub).present()
    assert first["reused"] is False and first["name"] == "devsecops-multicluster-dev-ci"
    record = hub.find("Secret", "dev-acs-ci", "devsecops-multicluster")
    assert base64.b64decode(record["data"]["token"]).decode() == central.tokens[first["id"]]["value"]
    again = _token(central, hub)
    assert again.present()["reused"] is True and again.changed is False


def test_token_with_other_roles_or_revoked_is_replaced_and_the_old_revoked():
    central, hub = FakeCentral(), FakeCluster("hub")
    first = _token(central, hub).present()
    second = _token(central, hub, roles=["Analyst"]).present()
    assert "roles" in second["reason"] and central.tokens[first["id"]]["meta"]["revoked"]
    central.tokens[second["id"]]["meta"]["revoked"] = True
    third = _token(central, hub, roles=["Analyst"]).present()
    assert "revoked" in third["reason"] and third["id"] not in (first["id"], second["id"])


def test_orphaned_tokens_of_the_same_name_are_revoked():
    central, hub = FakeCentral(), FakeCluster("hub")
    orphan = central.generate_token("devsecops-multicluster-dev-ci", ["Continuous Integration"])
    manager = _token(central, hub)
    manager.present()
    assert central.tokens[orphan["metadata"]["id"]]["meta"]["revoked"]
    assert any("not recorded" in a for a in manager.actions)


def test_token_check_mode_and_absent():
    central, hub = FakeCentral(), FakeCluster("hub")
    dry = _token(central, hub, check_mode=True)
    assert dry.present()["reused"] is False and central.tokens == {} and hub.writes == []
    first = _token(central, hub).present()
    _token(central, hub).absent()
    assert central.tokens[first["id"]]["meta"]["revoked"]
    assert hub.find("Secret", "dev-acs-ci", "devsecops-multicluster") is None
    with pytest.raises(AcsError):
        _token(central, hub, roles=[]).present()
