# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACS credentials minted at Central, kept on the hub, handed to the clusters that use them.

Registration material (an init bundle or a cluster registration secret, one per secured cluster)
and API tokens can be downloaded from Central only once, when they are generated. Each is
recorded in a labelled Secret on the hub (DESIGN section 5) and reused while Central still knows
it and it is outside its renewal window; rotation mints new material, applies it, waits for
Central to report the cluster healthy, then revokes the old; absent revokes at Central and
deletes the copies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.devsecops.multicluster.plugins.module_utils.central import health
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import managed_labels
from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import (
    ANNOTATION,
    PURPOSE_LABEL,
    annotation,
    b64,
    ensure_namespace,
    fingerprint,
    iso,
    parse_rfc3339,
    record_body,
    unb64,
    utcnow,
    write_record,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import ProductError
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import run as product_run
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import WaitTimeout, poll

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

CRS = "crs"
INIT_BUNDLE = "init-bundle"
MATERIAL_KEY = "material.yaml"
REGISTRATION_PURPOSE = "acs-registration"
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9._-]+$")
STAMP = "%Y%m%d%H%M%S"
# Central's CA certificate and the endpoint are public; everything else in the material is masked.
PUBLIC_KEYS = ("ca.pem", "CAs", "acs-host", "version")


class AcsError(ProductError):
    """An ACS failure phrased for the user."""


def material_secrets(text):
    """The Secrets of an init bundle's kubectl bundle or of a CRS, as (name, type, annotations, data b64)."""
    if not HAS_YAML:
        raise AcsError("the PyYAML Python library is required")
    secrets = []
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        if doc.get("kind") != "Secret":
            raise AcsError("Central's registration material holds a %s, expected only Secrets" % doc.get("kind"))
        data = dict(doc.get("data") or {})
        for key, value in (doc.get("stringData") or {}).items():
            data[key] = b64(to_text(value))
        meta = doc.get("metadata") or {}
        secrets.append((meta["name"], doc.get("type") or "Opaque", dict(meta.get("annotations") or {}), data))
    if not secrets:
        raise AcsError("Central's registration material holds no Secret")
    return secrets


def private_values(secrets):
    """Every decoded value of the material, to be masked in output."""
    values = []
    for _name, _type, _annotations, data in secrets:
        for key, value in data.items():
            if key in PUBLIC_KEYS:
                continue
            decoded = unb64(value)
            values.append(decoded)
            values.extend(line for line in decoded.splitlines() if len(line) >= 16 and "-----" not in line)
            try:  # a CRS: base64 of JSON holding the CA, the certificate and the private key
                inner = json.loads(unb64(decoded.strip()))
            except (ValueError, TypeError):
                continue
            for name, item in inner.items() if isinstance(inner, dict) else []:
                if name in PUBLIC_KEYS:
                    continue
                for text in (item if isinstance(item, list) else [item]):
                    if isinstance(text, str):
                        values.append(text)
                        values.extend(line for line in text.splitlines() if len(line) >= 16 and "-----" not in line)
    return values


class Registration(object):
    """One secured cluster's registration material: minted at Central, recorded on the hub, applied on the spoke."""

    def __init__(self, central, hub, target, params, check_mode=False, clock=None, sleep=None):
        self.central = central
        self.hub = hub
        self.target = target
        self.params = params
        self.check_mode = check_mode
        self.cluster = params["secured_cluster"]
        self.name = params.get("name") or self.cluster
        self.namespace = params.get("namespace") or "stackrox"
        self.record_namespace = params.get("record_namespace") or "devsecops-multicluster"
        self.record_name = params.get("record_name") or "%s-%s" % (self.cluster, REGISTRATION_PURPOSE)
        self.renew_before = datetime.timedelta(days=params.get("renew_before_days") or 30)
        self.wait_timeout = params.get("wait_timeout") or 600
        self.changed = False
        self.actions = []
        self.secret_values = []
        self.clock = clock
        self.sleep = sleep
        self._listings = {}
        if not NAME_PATTERN.match(self.name):
            raise AcsError("cluster %s: %r is not a valid init bundle / CRS name (letters, digits, '.', '_', '-')"
                           % (self.cluster, self.name))

    def _act(self, text):
        self.changed = True
        self.actions.append(text)

    @property
    def where(self):
        return "cluster %s: ACS registration at Central %s" % (self.cluster, self.central.endpoint)

    # -- Central -------------------------------------------------------------
    def mechanism(self):
        wanted = self.params.get("mechanism") or "auto"
        if wanted == "auto":
            return CRS if self.crs_supported() else INIT_BUNDLE
        if wanted == "crs" and not self.crs_supported():
            raise AcsError("%s: mechanism crs was asked for, but this Central does not serve cluster registration "
                           "secrets (ACS 4.7 or later does); use mechanism init_bundle" % self.where)
        return CRS if wanted == "crs" else INIT_BUNDLE

    def crs_supported(self):
        if CRS not in self._listings:
            self._listings[CRS] = self.central.crs_listing()
        return self._listings[CRS] is not None

    def listing(self, mechanism):
        """Central's material of one kind, read once per run (until something is minted or revoked)."""
        if mechanism == CRS:
            return self._listings[CRS] if self.crs_supported() else []
        if INIT_BUNDLE not in self._listings:
            self._listings[INIT_BUNDLE] = self.central.init_bundles()
        return self._listings[INIT_BUNDLE]

    def _forget(self):
        """Central's listings changed (minted, revoked, or a cluster registered since): read them again."""
        self._listings = dict((k, v) for k, v in self._listings.items() if k == CRS and v is None)

    def ours(self, meta):
        name = meta.get("name") or ""
        return name == self.name or (name.startswith(self.name + "-") and name[len(self.name) + 1:].isdigit()
                                     and len(name) - len(self.name) - 1 == 14)

    def _mint(self, mechanism, name):
        if mechanism == CRS:
            valid_for = int(self.params.get("valid_for_days") or 365) * 86400
            answer = self.central.generate_crs(name, valid_for, self.params.get("max_registrations") or 0)
            text = unb64(answer.get("crs"))
        else:
            answer = self.central.generate_init_bundle(name)
            text = unb64(answer.get("kubectlBundle"))
        meta = answer.get("meta") or {}
        if not text or not meta.get("id"):
            raise AcsError("%s: Central answered the %s request for %s without material" % (self.where, mechanism, name))
        self.secret_values.append(text)
        self.secret_values.extend(private_values(material_secrets(text)))
        return meta, text

    def _revoke(self, entries):
        """Revoke (mechanism, id, name) entries; returns those that could not be revoked, with why."""
        failed = []
        self._forget()
        bundles = dict((m["id"], m) for m in self.listing(INIT_BUNDLE)) \
            if any(e["mechanism"] == INIT_BUNDLE for e in entries) else {}
        crs_ids = set(m["id"] for m in self.listing(CRS)) \
            if any(e["mechanism"] == CRS for e in entries) else set()
        for entry in entries:
            label = "%s %s (%s)" % (entry["mechanism"], entry.get("name"), entry["id"])
            if entry["mechanism"] == CRS:
                if entry["id"] not in crs_ids:
                    continue
                self._act("revoke %s at Central" % label)
                if not self.check_mode:
                    answer = self.central.revoke_crs([entry["id"]])
                    errors = answer.get("crsRevocationErrors") or []
                    if errors:
                        failed.append("%s: %s" % (label, errors[0].get("error")))
                continue
            meta = bundles.get(entry["id"])
            if meta is None:
                continue
            impacted = meta.get("impactedClusters") or []
            strangers = [c.get("name") for c in impacted if c.get("name") != self.cluster]
            if strangers:
                failed.append("%s is also used by cluster(s) %s; not revoking it" % (label, ", ".join(strangers)))
                continue
            self._act("revoke %s at Central%s" % (label, " (confirming it was used by %s)" % self.cluster
                                                  if impacted else ""))
            if not self.check_mode:
                answer = self.central.revoke_init_bundles([entry["id"]], [c.get("id") for c in impacted])
                errors = answer.get("initBundleRevocationErrors") or []
                if errors:
                    failed.append("%s: %s" % (label, errors[0].get("error")))
        return failed

    # -- hub record -------------------------------------------------------------
    def record(self):
        return self.hub.get("v1", "Secret", self.record_name, self.record_namespace)

    def _write_record(self, old, mechanism, meta, text, reason, pending):
        annotations = {
            ANNOTATION + "mechanism": mechanism,
            ANNOTATION + "id": meta["id"],
            ANNOTATION + "name": meta.get("name") or "",
            ANNOTATION + "minted": iso(utcnow()),
            ANNOTATION + "expires": meta.get("expiresAt") or "",
            ANNOTATION + "fingerprint": fingerprint(text),
            ANNOTATION + "reason": reason,
            ANNOTATION + "pending-revocation": json.dumps(pending, sort_keys=True),
            ANNOTATION + "central": self.central.endpoint,
        }
        body = record_body(self.record_namespace, self.record_name, REGISTRATION_PURPOSE, self.cluster,
                           "acs-" + mechanism, annotations, {MATERIAL_KEY: b64(text)})
        write_record(self.hub, old, body)

    def _set_pending(self, pending):
        if not self.check_mode:
            self.hub.patch("v1", "Secret", self.record_name, {"metadata": {"annotations": {
                ANNOTATION + "pending-revocation": json.dumps(pending, sort_keys=True)}}}, self.record_namespace)

    # -- spoke copy ------------------------------------------------------------------
    def _spoke_labels(self):
        return managed_labels({PURPOSE_LABEL: REGISTRATION_PURPOSE})

    def deliver(self, text, material_id):
        """Make the spoke's Secrets equal to the material; returns True if anything was written."""
        wrote = False
        if self.target.get("v1", "Namespace", self.namespace) is None:
            self._act("create namespace %s on %s" % (self.namespace, self.target.name))
            if not self.check_mode:
                ensure_namespace(self.target, self.namespace)
        for name, stype, annotations, data in material_secrets(text):
            current = self.target.get("v1", "Secret", name, self.namespace)
            annotations = dict(annotations, **{ANNOTATION + "id": material_id})
            body = {"apiVersion": "v1", "kind": "Secret", "type": stype,
                    "metadata": {"name": name, "namespace": self.namespace, "labels": self._spoke_labels(),
                                 "annotations": annotations}, "data": data}
            if current is None:
                self._act("create Secret %s/%s on %s" % (self.namespace, name, self.target.name))
                if not self.check_mode:
                    self.target.create("v1", "Secret", body, self.namespace)
                wrote = True
            elif (current.get("data") or {}) != data:
                self._act("replace the data of Secret %s/%s on %s" % (self.namespace, name, self.target.name))
                if not self.check_mode:
                    self.target.delete("v1", "Secret", name, self.namespace)
                    self.target.create("v1", "Secret", body, self.namespace)
                wrote = True
        return wrote

    def _remove_stale_spoke_secrets(self, text):
        keep = set(name for name, _t, _a, _d in material_secrets(text)) if text else set()
        if self.target.get("v1", "Namespace", self.namespace) is None:
            return
        for secret in self.target.list("v1", "Secret", namespace=self.namespace,
                                       label_selector="%s=%s" % (PURPOSE_LABEL, REGISTRATION_PURPOSE)):
            name = secret["metadata"]["name"]
            if name not in keep:
                self._act("delete Secret %s/%s on %s" % (self.namespace, name, self.target.name))
                if not self.check_mode:
                    self.target.delete("v1", "Secret", name, self.namespace)

    # -- waiting -----------------------------------------------------------------------
    def wait_healthy(self, since):
        """Until Central reports the cluster HEALTHY with a contact after `since`."""
        def probe():
            state = health(self.central.find_cluster(self.cluster))
            if state and state["overall"] == "HEALTHY":
                contact = parse_rfc3339(state.get("last_contact"))
                if contact is None or contact >= since:
                    return True, state
            return False, state

        kwargs = {}
        if self.clock:
            kwargs["clock"] = self.clock
        if self.sleep:
            kwargs["sleep"] = self.sleep
        try:
            state, _elapsed = poll(probe, self.wait_timeout, 10, **kwargs)
        except WaitTimeout as err:
            last = err.last
            said = ("Central does not list cluster %s" % self.cluster) if not last else (
                "Central reports %s as %s (sensor %s, collector %s, admission control %s, last contact %s)"
                % (self.cluster, last["overall"], last["sensor"], last["collector"], last["admission_control"],
                   last["last_contact"] or "never"))
            message = ("%s: the new material is applied but the cluster did not report healthy within %ds: %s. "
                       "The old material stays valid and is listed for revocation in the record %s/%s; a "
                       "re-run finishes the rotation")
            raise AcsError(message % (self.where, self.wait_timeout, said, self.record_namespace, self.record_name))
        return state

    # -- entry points -------------------------------------------------------------------
    def _check(self, record, mechanism):
        """Why the recorded material cannot be kept (None: it can)."""
        recorded = annotation(record, "mechanism")
        if recorded != mechanism:
            return "the recorded material is %s, %s is wanted" % (recorded, mechanism)
        text = unb64((record.get("data") or {}).get(MATERIAL_KEY))
        if not text:
            return "the record holds no material"
        self.secret_values.append(text)
        self.secret_values.extend(private_values(material_secrets(text)))
        known = dict((m.get("id"), m) for m in self.listing(mechanism))
        meta = known.get(annotation(record, "id"))
        if meta is None:
            return "Central no longer has %s %s (revoked or expired)" % (mechanism, annotation(record, "name"))
        expires = parse_rfc3339(meta.get("expiresAt"))
        if expires is not None and expires - self.renew_before <= utcnow():
            return "the %s expires at %s (renewal window %d days)" % (mechanism, iso(expires), self.renew_before.days)
        return None

    def present(self, rotate=False):
        if self.target is None:
            raise AcsError("%s: target (the secured cluster's connection) is required to deliver the material"
                           % self.where)
        # The spoke first: an unreachable spoke fails before anything is minted.
        self.target.get("v1", "Namespace", self.namespace)
        mechanism = self.mechanism()
        record = self.record()
        pending = json.loads(annotation(record, "pending-revocation") or "[]") if record else []
        result = {"record": "%s/%s" % (self.record_namespace, self.record_name), "mechanism": mechanism,
                  "namespace": self.namespace}
        problem = None
        if record is not None:
            problem = "rotation requested" if rotate else self._check(record, mechanism)
        if record is not None and problem is None:
            text = unb64(record["data"][MATERIAL_KEY])
            applied_at = utcnow()
            wrote = self.deliver(text, annotation(record, "id"))
            if pending and not self.check_mode:
                if wrote:
                    self.wait_healthy(applied_at)
                self._finish_rotation(pending, text)
            result.update(id=annotation(record, "id"), name=annotation(record, "name"),
                          fingerprint=annotation(record, "fingerprint"),
                          expires=annotation(record, "expires") or None, reused=True)
            return result
        # Mint: decide the name, refusing to mint silently over material whose copy is lost.
        existing = [m for m in self.listing(mechanism) if self.ours(m)]
        name = self.name
        if record is None and existing and not rotate:
            found = existing[0]
            raise AcsError(
                "%s: Central already has %s %s (id %s, created %s), but its material is not recorded on the hub "
                "(no Secret %s/%s) and Central cannot hand it out again. Rotate (rotate: true, or "
                "playbooks/rotate_credentials.yml) to mint new material for %s, apply it and revoke the old one"
                % (self.where, mechanism, found.get("name"), found.get("id"), found.get("createdAt"),
                   self.record_namespace, self.record_name, self.cluster))
        # Central keeps init bundles and CRSs in one store: a name is taken if either kind has it.
        taken = set(m.get("name") for m in self.listing(INIT_BUNDLE) + self.listing(CRS))
        if name in taken:
            name = "%s-%s" % (self.name, utcnow().strftime(STAMP))
        old_entries = list(pending)
        if record is not None:
            old_entries.append({"mechanism": annotation(record, "mechanism"), "id": annotation(record, "id"),
                                "name": annotation(record, "name")})
        for meta in existing:
            if not any(e["id"] == meta.get("id") for e in old_entries):
                old_entries.append({"mechanism": mechanism, "id": meta.get("id"), "name": meta.get("name")})
        reason = problem or ("rotation requested" if rotate else "no material is recorded")
        self._act("mint %s %s for cluster %s at Central (%s)" % (mechanism, name, self.cluster, reason))
        result.update(name=name, reused=False, reason=reason)
        if self.check_mode:
            return result
        meta, text = self._mint(mechanism, name)
        self._write_record(record, mechanism, meta, text, reason, old_entries)
        applied_at = utcnow()
        self.deliver(text, meta["id"])
        if old_entries:
            self.wait_healthy(applied_at)
            self._finish_rotation(old_entries, text)
        result.update(id=meta["id"], fingerprint=fingerprint(text), expires=meta.get("expiresAt"))
        return result

    def _finish_rotation(self, pending, text):
        failed = self._revoke(pending)
        self._remove_stale_spoke_secrets(text)
        left = [e for e in pending if any(e["id"] in f for f in failed)]
        self._set_pending(left)
        if failed:
            raise AcsError("%s: the new material is in use, but the old could not be revoked: %s"
                           % (self.where, "; ".join(failed)))

    def absent(self, remove_cluster=True):
        record = self.record()
        entries = []
        if record is not None:
            entries = json.loads(annotation(record, "pending-revocation") or "[]")
            entries.append({"mechanism": annotation(record, "mechanism"), "id": annotation(record, "id"),
                            "name": annotation(record, "name")})
        for mechanism in (CRS, INIT_BUNDLE):
            for meta in self.listing(mechanism):
                if self.ours(meta) and not any(e["id"] == meta.get("id") for e in entries):
                    entries.append({"mechanism": mechanism, "id": meta.get("id"), "name": meta.get("name")})
        if remove_cluster:
            cluster = self.central.find_cluster(self.cluster)
            if cluster is not None:
                self._act("delete cluster %s (%s) at Central" % (self.cluster, cluster.get("id")))
                if not self.check_mode:
                    self.central.delete_cluster(cluster["id"])
        failed = self._revoke(entries)
        if failed:
            raise AcsError("%s: could not revoke: %s" % (self.where, "; ".join(failed)))
        if self.target is not None:
            self._remove_stale_spoke_secrets(None)
        if record is not None:
            self._act("delete record %s/%s" % (self.record_namespace, self.record_name))
            if not self.check_mode:
                self.hub.delete("v1", "Secret", self.record_name, self.record_namespace)
        return {"record": "%s/%s" % (self.record_namespace, self.record_name), "revoked": len(entries)}


class ApiToken(object):
    """One recorded API token of one purpose, with the roles it was asked for."""

    def __init__(self, central, hub, params, check_mode=False):
        self.central = central
        self.hub = hub
        self.params = params
        self.check_mode = check_mode
        self.cluster = params["consumer"]
        self.purpose = params["purpose"]
        self.token_name = params.get("token_name") or "devsecops-multicluster-%s-%s" % (self.cluster, self.purpose)
        self.roles = sorted(params.get("roles") or [])
        self.record_namespace = params.get("record_namespace") or "devsecops-multicluster"
        self.record_name = params.get("record_name") or "%s-acs-%s" % (self.cluster, self.purpose)
        self.lifetime = datetime.timedelta(days=params.get("lifetime_days") or 365)
        self.renew_before = datetime.timedelta(days=params.get("renew_before_days") or 30)
        self.changed = False
        self.actions = []
        self.secret_values = []

    @property
    def where(self):
        return "cluster %s: ACS API token %s at Central %s" % (self.cluster, self.token_name, self.central.endpoint)

    def _act(self, text):
        self.changed = True
        self.actions.append(text)

    def record(self):
        return self.hub.get("v1", "Secret", self.record_name, self.record_namespace)

    def _check(self, record):
        token = unb64((record.get("data") or {}).get("token"))
        if not token:
            return "the record holds no token", None
        self.secret_values.append(token)
        meta = self.central.api_token(annotation(record, "id"))
        if meta is None or meta.get("revoked"):
            return "Central no longer has the token (revoked or deleted)", meta
        if sorted(meta.get("roles") or ([meta["role"]] if meta.get("role") else [])) != self.roles:
            return "the token has roles %s, %s are wanted" % (meta.get("roles"), self.roles), meta
        expires = parse_rfc3339(meta.get("expiration"))
        if expires is not None and expires - self.renew_before <= utcnow():
            return "the token expires at %s (renewal window %d days)" % (iso(expires), self.renew_before.days), meta
        if self.central.token_status(token) is None:
            return "Central refuses the recorded token", meta
        return None, meta

    def _summary(self, meta, token=None, record=None):
        return {"record": "%s/%s" % (self.record_namespace, self.record_name), "name": self.token_name,
                "id": (meta or {}).get("id") or annotation(record, "id"), "roles": self.roles,
                "expires": (meta or {}).get("expiration"),
                "fingerprint": fingerprint(token) if token else annotation(record, "fingerprint")}

    def _orphans(self, known_ids):
        return [t for t in self.central.api_tokens(revoked=False)
                if t.get("name") == self.token_name and t.get("id") not in known_ids]

    def present(self, rotate=False):
        if not self.roles:
            raise AcsError("%s: roles is required (the ACS roles the token carries)" % self.where)
        record = self.record()
        problem, meta = ("no token is recorded", None) if record is None else (
            ("rotation requested", None) if rotate else self._check(record))
        if problem is None:
            result = self._summary(meta, record=record)
            result.update(reused=True)
            return result
        self._act("generate API token %s with roles %s at Central (%s)" % (self.token_name, ", ".join(self.roles),
                                                                           problem))
        old_id = annotation(record, "id") if record else None
        orphans = self._orphans([old_id])
        for orphan in orphans:
            self._act("revoke API token %s (%s) whose value is not recorded" % (orphan.get("name"), orphan.get("id")))
        if old_id and (meta is None or not meta.get("revoked")):
            self._act("revoke the previous API token %s" % old_id)
        if self.check_mode:
            return {"record": "%s/%s" % (self.record_namespace, self.record_name), "name": self.token_name,
                    "roles": self.roles, "reused": False, "reason": problem}
        expiration = iso(utcnow() + self.lifetime)
        answer = self.central.generate_token(self.token_name, self.roles, expiration)
        token = answer.get("token")
        new = answer.get("metadata") or {}
        if not token or not new.get("id"):
            raise AcsError("%s: Central answered the token request without a token" % self.where)
        self.secret_values.append(token)
        annotations = {ANNOTATION + "id": new["id"], ANNOTATION + "name": self.token_name,
                       ANNOTATION + "roles": ",".join(self.roles), ANNOTATION + "minted": iso(utcnow()),
                       ANNOTATION + "expires": new.get("expiration") or "", ANNOTATION + "fingerprint": fingerprint(token),
                       ANNOTATION + "reason": problem, ANNOTATION + "central": self.central.endpoint}
        body = record_body(self.record_namespace, self.record_name, "acs-" + self.purpose, self.cluster,
                           "acs-api-token", annotations,
                           {"token": b64(token), "endpoint": b64(self.central.endpoint.split("://", 1)[1])})
        write_record(self.hub, record, body)
        for orphan in orphans:
            self.central.revoke_token(orphan["id"])
        if old_id and (meta is None or not meta.get("revoked")):
            self.central.revoke_token(old_id)
        result = self._summary(new, token=token)
        result.update(reused=False, reason=problem)
        return result

    def absent(self):
        record = self.record()
        ids = [annotation(record, "id")] if record else []
        for orphan in self._orphans(ids):
            ids.append(orphan["id"])
        for token_id in ids:
            meta = self.central.api_token(token_id)
            if meta is not None and not meta.get("revoked"):
                self._act("revoke API token %s (%s) at Central" % (self.token_name, token_id))
                if not self.check_mode:
                    self.central.revoke_token(token_id)
        if record is not None:
            self._act("delete record %s/%s" % (self.record_namespace, self.record_name))
            if not self.check_mode:
                self.hub.delete("v1", "Secret", self.record_name, self.record_namespace)
        return {"record": "%s/%s" % (self.record_namespace, self.record_name), "name": self.token_name}


def run(manager, action):
    """Call a manager's entry point, turning product and cluster failures into AcsError."""
    return product_run(manager, action, AcsError)
