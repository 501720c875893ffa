# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection keeps converged inside Quay, and the credentials it mints there.

* `Bootstrap` - the first superuser, created once through /api/v1/user/initialize; its password
  and token are recorded on the hub (DESIGN section 5), so a re-run reuses them instead of failing
  because the user exists.
* `Organization` - an organization with the repositories and OAuth applications it should hold.
* `AppToken` - an OAuth access token of an organization's application (Quay 3.18's application
  token API), for a consumer such as a spoke's Quay Bridge: minted once, recorded, reused while
  Quay still lists and accepts it, rotated (mint, record, then revoke the old) and revoked.
* `Robot` - a robot account with repository permissions, recorded on the hub as a
  kubernetes.io/dockerconfigjson Secret ready to be copied as a pull secret; rotation regenerates
  its token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re
import secrets

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import (
    ANNOTATION,
    annotation,
    b64,
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
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import ADMIN_SCOPES
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError

DOCKERCONFIG = "kubernetes.io/dockerconfigjson"
ROBOT_SHORT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,254}$")
ROLES = ("read", "write", "admin")


class QuayError(ProductError):
    """A Quay failure phrased for the user."""


def run(manager, action):
    return product_run(manager, action, QuayError)


def robot_short_name(text):
    """A robot short name Quay accepts, made from a cluster or purpose name (lab-dev -> lab_dev)."""
    name = re.sub(r"[^a-z0-9_]", "_", (text or "").lower())
    if not name[:1].isalpha():
        name = "r" + name
    return name[:255]


def dns_label(text):
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", (text or "").lower())).strip("-")


def scope_set(text):
    return sorted(set(re.split(r"[\s,]+", (text or "").strip())) - {""})


class _Manager(object):
    def __init__(self, quay, hub, params, check_mode=False):
        self.quay = quay
        self.hub = hub
        self.params = params
        self.check_mode = check_mode
        self.record_namespace = params.get("record_namespace") or "devsecops-multicluster"
        self.changed = False
        self.actions = []
        self.secret_values = []

    def _act(self, text):
        self.changed = True
        self.actions.append(text)

    def _record(self, name):
        return self.hub.get("v1", "Secret", name, self.record_namespace)

    def _delete_record(self, name):
        if self._record(name) is not None:
            self._act("delete record %s/%s" % (self.record_namespace, name))
            if not self.check_mode:
                self.hub.delete("v1", "Secret", name, self.record_namespace)


class Bootstrap(_Manager):
    """The first superuser, recorded in `<record_namespace>/<record_name>`, and the collection's automation token.

    The token /api/v1/user/initialize returns lives 150 minutes (Quay's create_user_access_token), so it only
    bootstraps: with it the collection mints a long-lived token of its own OAuth application (the automation
    organization's `application`) with the first user's scopes, recorded as `<token_record_name>` and renewed
    before it expires. Every other Quay module authenticates with that record.
    """

    def __init__(self, quay, hub, params, check_mode=False):
        super(Bootstrap, self).__init__(quay, hub, params, check_mode)
        self.username = params["username"]
        self.record_name = params.get("record_name") or "quay-admin"
        self.organization = params.get("organization") or "devsecops"
        self.token_params = {
            "organization": self.organization, "application": params.get("application") or "devsecops-multicluster",
            "application_description": "The devsecops.multicluster collection's automation",
            "consumer": self.username, "purpose": "automation", "scopes": ADMIN_SCOPES.split(),
            "record_namespace": self.record_namespace,
            "record_name": params.get("token_record_name") or "quay-automation",
            "lifetime_days": params.get("lifetime_days") or 365,
            "renew_before_days": params.get("renew_before_days") or 30}

    @property
    def where(self):
        return "Quay %s: first user %s" % (self.quay.endpoint, self.username)

    def _write(self, old, data, mechanism, reason):
        annotations = {ANNOTATION + "mechanism": mechanism, ANNOTATION + "minted": iso(utcnow()),
                       ANNOTATION + "reason": reason, ANNOTATION + "quay": self.quay.endpoint}
        if data.get("token"):
            annotations[ANNOTATION + "fingerprint"] = fingerprint(data["token"])
        body = record_body(self.record_namespace, self.record_name, "quay-admin", "hub", "quay-" + mechanism,
                           annotations, dict((k, b64(v)) for k, v in data.items()))
        return write_record(self.hub, old, body)

    def _first_user(self):
        """(mechanism, reused) once a superuser token is in use; creates the first user when there is none."""
        record = self._record(self.record_name)
        data = dict((k, unb64(v)) for k, v in ((record or {}).get("data") or {}).items())
        self.secret_values.extend(v for k, v in data.items() if k in ("token", "password") and v)
        mechanism = annotation(record, "mechanism") or "initialize"
        automation = self._record(self.token_params["record_name"])
        candidates = [("the automation token recorded in %s/%s" % (self.record_namespace,
                                                                   self.token_params["record_name"]),
                       unb64(((automation or {}).get("data") or {}).get("token")))]
        if data.get("token"):
            candidates.append(("the first user's token recorded in %s/%s" % (self.record_namespace, self.record_name),
                               data["token"]))
        refused = []
        for source, token in candidates:
            if not token:
                continue
            self.secret_values.append(token)
            info = self.quay.token_user(token)
            if info is not None and info.get("username") == (data.get("username") or self.username):
                self.quay.use_token(token, source, info)
                return mechanism, True
            refused.append(source)
        if refused:
            problem = "Quay refuses %s" % " and ".join(refused)
        elif record is None:
            problem = "no first user is recorded"
        else:
            problem = "the record %s/%s holds no token" % (self.record_namespace, self.record_name)
        if self.quay.has_credentials():
            info = self.quay.authenticate()
            if not info.get("super_user"):
                raise QuayError("%s: the token given acts for %s, who is not a Quay superuser (SUPER_USERS)"
                                % (self.where, info.get("username") or "an unknown user"))
            self.username = info.get("username") or self.username
            self.token_params["consumer"] = self.username
            self._act("record the token given for %s (%s)" % (self.username, problem))
            if not self.check_mode:
                self._write(record, {"username": self.username, "token": self.quay.token}, "given", problem)
            return "given", False
        if record is not None and data.get("token"):
            raise QuayError("%s: %s, and no token of a Quay superuser was given (quay.token or quay.token_secret)"
                            % (self.where, problem))
        # No record, or one left by an initialization that did not finish: initialize with its password.
        self._act("initialize Quay's first user %s (%s)" % (self.username, problem))
        if self.check_mode:
            return "initialize", False
        password = data.get("password")
        if not password:
            password = secrets.token_urlsafe(24)
            self.secret_values.append(password)
            # The password is kept before Quay knows it: whatever happens next, nothing minted is lost.
            record = self._write(record, {"username": self.username, "password": password}, "initialize", problem)
        try:
            answer = self.quay.initialize(self.username, password, self.params.get("email"))
        except RestError as err:
            if err.status == 404:
                raise QuayError("%s: user initialization is disabled (FEATURE_USER_INITIALIZE is not true in the "
                                "config bundle) and no token of a Quay superuser was given (quay.token or "
                                "quay.token_secret)" % self.where)
            if err.status == 400:
                raise QuayError("%s: Quay refused to initialize the first user (%s) and %s; give the token of a Quay "
                                "superuser as quay.token or quay.token_secret" % (self.where, err.message, problem))
            raise
        token = answer.get("access_token")
        if not token:
            raise QuayError("%s: Quay initialized the user but returned no access token" % self.where)
        self.secret_values.append(token)
        self._write(record, {"username": self.username, "password": password, "token": token}, "initialize",
                    problem)
        self.quay.use_token(token, "the first user's token")
        return "initialize", False

    def present(self):
        mechanism, reused = self._first_user()
        result = {"username": self.username, "record": "%s/%s" % (self.record_namespace, self.record_name),
                  "mechanism": mechanism, "reused": reused}
        if self.check_mode and not reused:
            result["automation"] = {"record": "%s/%s" % (self.record_namespace, self.token_params["record_name"])}
            return result
        if self.quay.organization(self.organization) is None:
            self._act("create organization %s for the collection's automation" % self.organization)
            if self.check_mode:
                return result
            self.quay.create_organization(self.organization, self.params.get("organization_email"))
        token = AppToken(self.quay, self.hub, self.token_params, check_mode=self.check_mode)
        result["automation"] = token.present()
        self.secret_values.extend(token.secret_values)
        self.actions.extend(token.actions)
        self.changed = self.changed or token.changed
        return result

    def absent(self):
        self._delete_record(self.token_params["record_name"])
        self._delete_record(self.record_name)
        return {"username": self.username, "record": "%s/%s" % (self.record_namespace, self.record_name)}


class Organization(_Manager):
    """An organization, the repositories and the OAuth applications it holds."""

    def __init__(self, quay, hub, params, check_mode=False):
        super(Organization, self).__init__(quay, hub, params, check_mode)
        self.name = params["name"]

    @property
    def where(self):
        return "Quay %s: organization %s" % (self.quay.endpoint, self.name)

    def present(self):
        result = {"name": self.name, "repositories": [], "applications": {}}
        if self.quay.organization(self.name) is None:
            self._act("create organization %s" % self.name)
            if self.check_mode:
                result["repositories"] = [r["name"] for r in self.params.get("repositories") or []]
                return result
            try:
                self.quay.create_organization(self.name, self.params.get("email"))
            except RestError as err:
                if err.status == 400:
                    raise QuayError("%s: Quay refused to create it: %s" % (self.where, err.message))
                raise
        for repo in self.params.get("repositories") or []:
            result["repositories"].append(repo["name"])
            current = self.quay.repository(self.name, repo["name"])
            if current is None:
                self._act("create repository %s/%s (%s)" % (self.name, repo["name"], repo["visibility"]))
                if not self.check_mode:
                    self.quay.create_repository(self.name, repo["name"], repo["visibility"],
                                                repo.get("description"))
            elif bool(current.get("is_public")) != (repo["visibility"] == "public"):
                self._act("make repository %s/%s %s" % (self.name, repo["name"], repo["visibility"]))
                if not self.check_mode:
                    self.quay.change_visibility(self.name, repo["name"], repo["visibility"])
        for app in self.params.get("applications") or []:
            current = self.quay.application(self.name, app["name"])
            if current is None:
                self._act("create OAuth application %s in %s" % (app["name"], self.name))
                if self.check_mode:
                    continue
                current = self.quay.create_application(self.name, app["name"], app.get("description"))
            result["applications"][app["name"]] = current.get("client_id")
        return result

    def absent(self):
        if self.quay.organization(self.name) is not None:
            self._act("delete organization %s with everything in it" % self.name)
            if not self.check_mode:
                self.quay.delete_organization(self.name)
        return {"name": self.name}


class AppToken(_Manager):
    """One recorded OAuth token of an organization's application, for one consumer and purpose."""

    def __init__(self, quay, hub, params, check_mode=False):
        super(AppToken, self).__init__(quay, hub, params, check_mode)
        self.org = params["organization"]
        self.app_name = params["application"]
        self.consumer = params["consumer"]
        self.purpose = params["purpose"]
        self.scopes = scope_set(" ".join(params.get("scopes") or []))
        self.token_name = params.get("token_name") or "devsecops-multicluster-%s-%s" % (self.consumer, self.purpose)
        self.record_name = params.get("record_name") or dns_label("%s-quay-%s" % (self.consumer, self.purpose))
        self.lifetime = datetime.timedelta(days=params.get("lifetime_days") or 365)
        self.renew_before = datetime.timedelta(days=params.get("renew_before_days") or 30)

    @property
    def where(self):
        return "Quay %s: token %s of application %s/%s (for %s)" % (
            self.quay.endpoint, self.token_name, self.org, self.app_name, self.consumer)

    def _application(self, create):
        app = self.quay.application(self.org, self.app_name)
        if app is None and create:
            self._act("create OAuth application %s in organization %s" % (self.app_name, self.org))
            if not self.check_mode:
                app = self.quay.create_application(self.org, self.app_name, self.params.get("application_description"))
        return app

    def _tokens(self, app):
        try:
            return self.quay.app_tokens(self.org, app["client_id"])
        except RestError as err:
            if err.status in (404, 405):
                raise QuayError("%s: Quay has no application token API (%s); Quay 3.18 or later mints application "
                                "tokens through its API" % (self.where, err.message))
            raise

    def _check(self, record, listed):
        token = unb64((record.get("data") or {}).get("token"))
        if not token:
            return "the record holds no token"
        self.secret_values.append(token)
        meta = listed.get(annotation(record, "id"))
        if meta is None:
            return "Quay no longer lists the token (revoked, expired or deleted)"
        if scope_set(meta.get("scope")) != self.scopes:
            return "the token has scopes %s, %s are wanted" % (" ".join(scope_set(meta.get("scope"))),
                                                               " ".join(self.scopes))
        expires = parse_rfc3339(meta.get("expires_at"))
        if expires is not None and expires - self.renew_before <= utcnow():
            return "the token expires at %s (renewal window %d days)" % (iso(expires), self.renew_before.days)
        if self.quay.token_user(token) is None:
            return "Quay refuses the recorded token"
        return None

    def _summary(self, record=None, meta=None, token=None):
        return {"record": "%s/%s" % (self.record_namespace, self.record_name), "name": self.token_name,
                "id": (meta or {}).get("uuid") or annotation(record, "id"), "scopes": self.scopes,
                "expires": (meta or {}).get("expires_at") or annotation(record, "expires"),
                "fingerprint": fingerprint(token) if token else annotation(record, "fingerprint"),
                "hostname": self.quay.hostname}

    def present(self, rotate=False):
        if not self.scopes:
            raise QuayError("%s: scopes is required (the Quay scopes the token carries)" % self.where)
        if self.quay.organization(self.org) is None:
            raise QuayError("%s: the organization %s does not exist at Quay" % (self.where, self.org))
        app = self._application(create=True)
        record = self._record(self.record_name)
        listed = dict((t.get("uuid"), t) for t in self._tokens(app)) if app else {}
        if record is None:
            problem = "no token is recorded"
        else:
            problem = "rotation requested" if rotate else self._check(record, listed)
        if problem is None:
            result = self._summary(record, listed.get(annotation(record, "id")))
            result.update(reused=True)
            return result
        old_id = annotation(record, "id") if record is not None else None
        stale = [uuid for uuid, meta in listed.items() if meta.get("name") == self.token_name or uuid == old_id]
        self._act("mint Quay token %s with scopes %s (%s)" % (self.token_name, " ".join(self.scopes), problem))
        for uuid in stale:
            self._act("revoke the previous token %s" % uuid)
        if self.check_mode:
            result = self._summary(record)
            result.update(reused=False, reason=problem)
            return result
        expiration = int(self.lifetime.total_seconds())
        answer = self.quay.create_app_token(self.org, app["client_id"], self.token_name, " ".join(self.scopes),
                                            expiration)
        token = answer.get("token")
        if not token or not answer.get("uuid"):
            raise QuayError("%s: Quay answered the token request without a token" % self.where)
        self.secret_values.append(token)
        annotations = {ANNOTATION + "id": answer["uuid"], ANNOTATION + "name": self.token_name,
                       ANNOTATION + "scopes": " ".join(self.scopes), ANNOTATION + "minted": iso(utcnow()),
                       ANNOTATION + "expires": answer.get("expires_at") or "", ANNOTATION + "fingerprint": fingerprint(token),
                       ANNOTATION + "reason": problem, ANNOTATION + "quay": self.quay.endpoint,
                       ANNOTATION + "application": "%s/%s" % (self.org, self.app_name)}
        body = record_body(self.record_namespace, self.record_name, "quay-" + self.purpose, self.consumer,
                           "quay-oauth-token", annotations,
                           {"token": b64(token), "hostname": b64(self.quay.hostname),
                            "endpoint": b64(self.quay.endpoint)})
        write_record(self.hub, record, body)
        for uuid in stale:
            self.quay.delete_app_token(self.org, app["client_id"], uuid)
        result = self._summary(meta=answer, token=token)
        result.update(reused=False, reason=problem)
        return result

    def absent(self):
        record = self._record(self.record_name)
        app = self.quay.application(self.org, self.app_name) if self.quay.organization(self.org) else None
        if app is not None:
            old_id = annotation(record, "id") if record is not None else None
            for meta in self.quay.app_tokens(self.org, app["client_id"]):
                if meta.get("uuid") == old_id or meta.get("name") == self.token_name:
                    self._act("revoke Quay token %s (%s)" % (self.token_name, meta.get("uuid")))
                    if not self.check_mode:
                        self.quay.delete_app_token(self.org, app["client_id"], meta["uuid"])
        self._delete_record(self.record_name)
        return {"record": "%s/%s" % (self.record_namespace, self.record_name), "name": self.token_name}


def docker_config(hostname, username, token):
    auth = b64("%s:%s" % (username, token))
    return json.dumps({"auths": {hostname: {"auth": auth, "username": username, "password": token, "email": ""}}},
                      sort_keys=True)


class Robot(_Manager):
    """A robot account, its repository permissions and its docker config recorded on the hub."""

    def __init__(self, quay, hub, params, check_mode=False):
        super(Robot, self).__init__(quay, hub, params, check_mode)
        self.org = params["organization"]
        self.short = params["name"]
        self.full = "%s+%s" % (self.org, self.short)
        self.consumer = params.get("consumer") or self.short
        self.record_name = params.get("record_name") or dns_label("quay-robot-%s-%s" % (self.org, self.short))

    @property
    def where(self):
        return "Quay %s: robot account %s" % (self.quay.endpoint, self.full)

    def _summary(self, token=None, record=None):
        return {"name": self.full, "record": "%s/%s" % (self.record_namespace, self.record_name),
                "hostname": self.quay.hostname,
                "fingerprint": fingerprint(token) if token else annotation(record, "fingerprint")}

    def present(self, rotate=False):
        if not ROBOT_SHORT_NAME.match(self.short):
            raise QuayError("%s: %r is not a robot name Quay accepts (lower-case letter first, then lower-case "
                            "letters, digits or _; 2 to 255 characters)" % (self.where, self.short))
        for perm in self.params.get("permissions") or []:
            if perm.get("role") not in ROLES:
                raise QuayError("%s: permission role %r on %s is not one of %s"
                                % (self.where, perm.get("role"), perm.get("repository"), ", ".join(ROLES)))
        if self.quay.organization(self.org) is None:
            raise QuayError("%s: the organization %s does not exist at Quay" % (self.where, self.org))
        robot = self.quay.robot(self.org, self.short)
        reason = None
        if robot is None:
            reason = "created"
            self._act("create robot account %s" % self.full)
            if not self.check_mode:
                robot = self.quay.create_robot(self.org, self.short, self.params.get("description"))
        elif rotate:
            reason = "regenerated"
            self._act("regenerate the token of robot account %s" % self.full)
            if not self.check_mode:
                robot = self.quay.regenerate_robot(self.org, self.short)
        token = (robot or {}).get("token")
        if token:
            self.secret_values.append(token)
        for perm in self.params.get("permissions") or []:
            current = None if robot is None or reason == "created" and self.check_mode else \
                self.quay.permission(self.org, perm["repository"], self.full)
            if (current or {}).get("role") != perm["role"]:
                self._act("grant %s %s on %s/%s" % (self.full, perm["role"], self.org, perm["repository"]))
                if not self.check_mode:
                    try:
                        self.quay.set_permission(self.org, perm["repository"], self.full, perm["role"])
                    except RestError as err:
                        if err.status in (400, 404):
                            raise QuayError("%s: cannot grant %s on %s/%s: %s" % (
                                self.where, perm["role"], self.org, perm["repository"], err.message))
                        raise
        record = self._record(self.record_name)
        if token:
            config = docker_config(self.quay.hostname, robot.get("name") or self.full, token)
            self.secret_values.extend([config, b64("%s:%s" % (robot.get("name") or self.full, token))])
            recorded = unb64((record or {}).get("data", {}).get(".dockerconfigjson"))
            if recorded != config:
                why = reason or ("no record" if record is None else "the token at Quay differs from the record")
                self._act("record the docker config of %s in %s/%s (%s)"
                          % (self.full, self.record_namespace, self.record_name, why))
                if not self.check_mode:
                    annotations = {ANNOTATION + "name": self.full, ANNOTATION + "minted": iso(utcnow()),
                                   ANNOTATION + "fingerprint": fingerprint(token), ANNOTATION + "reason": why,
                                   ANNOTATION + "quay": self.quay.endpoint}
                    body = record_body(self.record_namespace, self.record_name, "quay-pull", self.consumer,
                                       "quay-robot", annotations, {".dockerconfigjson": b64(config)},
                                       secret_type=DOCKERCONFIG)
                    write_record(self.hub, record, body)
        elif record is None:
            self._act("record the docker config of %s in %s/%s" % (self.full, self.record_namespace,
                                                                   self.record_name))
        result = self._summary(token, record)
        result.update(created=reason == "created", rotated=reason == "regenerated")
        return result

    def absent(self):
        if self.quay.organization(self.org) is not None and self.quay.robot(self.org, self.short) is not None:
            self._act("delete robot account %s" % self.full)
            if not self.check_mode:
                self.quay.delete_robot(self.org, self.short)
        self._delete_record(self.record_name)
        return {"name": self.full, "record": "%s/%s" % (self.record_namespace, self.record_name)}
