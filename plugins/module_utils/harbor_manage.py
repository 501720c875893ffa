# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection keeps converged inside Harbor (2.12).

* `Scanner` - a scanner registration, idempotent by name. A new one is created only after Harbor
  reached its adapter (C(POST /scanners/ping)); a differing one is replaced with C(PUT); C(default)
  makes it the system default scanner (C(PATCH {"is_default": true})). The built-in C(Trivy)
  registration is Harbor's own and immutable: it is never edited or deleted (only made the default).
* `Project` - a project with its metadata (C(public), C(auto_scan) = scan on push, C(prevent_vul) +
  C(severity)) and optionally its own scanner; absent deletes an empty project.
* `ScanAll` - the scan-all schedule.
* `AdminPassword` - the admin's password, kept in a record on the hub (DESIGN section 5): minted once, reused,
  rotated through C(PUT /users/{user_id}/password) without ever losing a password Harbor may hold.

The access credential of a scanner registration is write-only for the collection: Harbor 2.12 still
returns it from GET (it is never put in results, diffs or messages), later Harbor releases (2.14.4,
2.15.1) do not return it at all. So a credential changed in the task is sent to Harbor only with
C(update_credential: always); with C(on_create) (the default) it is set when the registration is
created and left alone afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import secrets
import string

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import (
    ANNOTATION,
    KIND_LABEL,
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
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import TRIVY, scanner_url
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import ProductError
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import run as product_run
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError

AUTH_TYPES = ("", "Basic", "Bearer", "X-ScannerAdapter-API-Key")
SEVERITIES = ("none", "low", "medium", "high", "critical")
# pkg/project/manager.go restrictedNameChars, 1 to 255 characters.
PROJECT_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# The cron strings Harbor's portal sends for the named schedule types (6 fields, seconds first).
SCHEDULE_CRON = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}
SCHEDULE_TYPES = ("Hourly", "Daily", "Weekly", "Custom", "None")
# ScannerRegistrationReq fields compared with a registration (module option -> Harbor field).
SCANNER_FIELDS = (("url", "url"), ("description", "description"), ("auth", "auth"),
                  ("skip_cert_verify", "skip_certVerify"), ("use_internal_addr", "use_internal_addr"),
                  ("disabled", "disabled"))
HIDDEN = "(hidden)"


class HarborError(ProductError):
    """A Harbor failure phrased for the user."""


def run(manager, action):
    return product_run(manager, action, HarborError)


def _flag(value):
    """Harbor project metadata are the strings "true" and "false"."""
    return "true" if value else "false"


def _truthy(text):
    return str(text).lower() == "true"


class _Manager(object):
    def __init__(self, harbor, hub, params, check_mode=False):
        self.harbor = harbor
        self.hub = hub
        self.params = params
        self.check_mode = check_mode
        self.changed = False
        self.actions = []
        self.secret_values = []
        self.before = {}
        self.after = {}

    def _act(self, text):
        self.changed = True
        self.actions.append(text)


def scanner_view(registration):
    """What the collection reports of a registration: never its access credential."""
    reg = registration or {}
    view = {"name": reg.get("name"), "uuid": reg.get("uuid"), "url": reg.get("url"),
            "description": reg.get("description") or "", "auth": reg.get("auth") or "",
            "skip_cert_verify": bool(reg.get("skip_certVerify")),
            "use_internal_addr": bool(reg.get("use_internal_addr")), "disabled": bool(reg.get("disabled")),
            "is_default": bool(reg.get("is_default")), "immutable": reg.get("name") == TRIVY}
    for key in ("adapter", "vendor", "version", "health", "capabilities"):
        if reg.get(key):
            view[key] = reg[key]
    return view


class Scanner(_Manager):
    """One scanner registration, by name."""

    def __init__(self, harbor, hub, params, check_mode=False):
        super(Scanner, self).__init__(harbor, hub, params, check_mode)
        self.name = params["name"]
        self.credential = params.get("access_credential") or ""
        if self.credential:
            self.secret_values.append(self.credential)

    @property
    def where(self):
        return "Harbor %s: scanner registration %s" % (self.harbor.endpoint, self.name)

    def _find(self):
        registrations = self.harbor.scanners()
        for reg in registrations:
            if reg.get("access_credential"):  # Harbor 2.12 returns it; it must never be shown
                self.secret_values.append(reg["access_credential"])
        return next((r for r in registrations if r.get("name") == self.name), None), registrations

    def _desired(self):
        """The fields the task sets (None: not given, keep Harbor's value)."""
        wanted = {}
        for option, field in SCANNER_FIELDS:
            value = self.params.get(option)
            if value is None:
                continue
            wanted[field] = scanner_url(value) if option == "url" else value
        return wanted

    def _diff_view(self, reg, credential_changed=False):
        view = scanner_view(reg)
        view.pop("capabilities", None)
        reg = reg or {}
        is_set = reg.get("access_credential") or reg.get("auth") or credential_changed
        view["access_credential"] = (HIDDEN + (" (changed)" if credential_changed else "")) if is_set else ""
        return view

    def _ping(self, url, auth, credential):
        """POST /scanners/ping; a failure is the task's failure, with what Harbor answered."""
        try:
            self.harbor.ping_scanner(self.name, url, auth, credential)
        except RestError as err:
            if err.status == 500:
                why = ("Harbor could not fetch a valid scanner adapter metadata document from %s/api/v1/metadata "
                       "(Harbor answers HTTP 500 when the adapter is unreachable, refuses the credential or is not "
                       "a pluggable scanner adapter; Harbor core's log has the details)" % url)
            elif err.status == 400:
                why = "Harbor refused the settings"
            else:
                why = "Harbor could not test the adapter"
            raise HarborError("%s: %s: adapter URL %s: %s" % (self.where, why, url, err.message))

    def _check_auth(self, auth, credential_known):
        if auth not in AUTH_TYPES:
            raise HarborError("%s: auth %r is not one of Basic, Bearer, X-ScannerAdapter-API-Key or empty"
                              % (self.where, auth))
        if auth and not credential_known:
            raise HarborError("%s: auth %s needs access_credential (Harbor refuses a registration with an "
                              "authentication type and no credential)" % (self.where, auth))

    @staticmethod
    def _value(registration, field):
        value = (registration or {}).get(field)
        if field == "url":
            return scanner_url(value)
        if field in ("description", "auth"):
            return value or ""
        return bool(value)

    def _differing(self, current, wanted):
        return sorted(field for field, value in wanted.items() if self._value(current, field) != value)

    def _trivy(self, current, wanted):
        """The built-in registration: only `default` may be asked for."""
        if self.params.get("state") == "absent":
            raise HarborError("%s: the built-in Trivy registration is immutable; Harbor deletes it only when it runs "
                              "without Trivy (chart value trivy.enabled: false)" % self.where)
        if current is None:
            raise HarborError("%s: Trivy is the name Harbor reserves for its built-in scanner, which Harbor registers "
                              "itself when the chart's trivy.enabled is true; this Harbor has none" % self.where)
        differing = self._differing(current, wanted)
        if self.credential and self.params.get("update_credential") == "always":
            differing.append("access_credential")
        if differing:
            raise HarborError("%s: the built-in Trivy registration is immutable (Harbor answers 403 to any change); "
                              "cannot change %s - only default: true may be set on it"
                              % (self.where, ", ".join(differing)))

    def present(self):
        current, registrations = self._find()
        wanted = self._desired()
        if self.name == TRIVY:
            self._trivy(current, wanted)
        disabled = wanted["disabled"] if "disabled" in wanted else self._value(current, "disabled")
        if self.params.get("default") and disabled:
            raise HarborError("%s: a disabled registration cannot be the system default scanner" % self.where)
        if current is None:
            current = self._create(wanted, registrations)
        elif self.name != TRIVY:
            current = self._update(current, wanted, registrations)
        else:
            self.before = self.after = self._diff_view(current)
        if self.params.get("default") and not current.get("is_default"):
            self._act("make %s the system default scanner" % self.name)
            self.after = dict(self.after, is_default=True)
            if not self.check_mode:
                self.harbor.set_default_scanner(current["uuid"])
            current = dict(current, is_default=True)
        return scanner_view(current)

    def _same_url(self, wanted, registrations):
        other = next((r for r in registrations if r.get("name") != self.name and
                      scanner_url(r.get("url")) == wanted.get("url")), None)
        if other is not None:
            raise HarborError("%s: the adapter URL %s is already registered as %s (Harbor keeps URLs unique)"
                              % (self.where, wanted["url"], other.get("name")))

    def _create(self, wanted, registrations):
        if not wanted.get("url"):
            raise HarborError("%s: url is required to register a scanner (the adapter's base URL)" % self.where)
        self._check_auth(wanted.get("auth") or "", bool(self.credential))
        self._same_url(wanted, registrations)
        self._ping(wanted["url"], wanted.get("auth") or "", self.credential)
        body = {"name": self.name, "url": wanted["url"], "description": wanted.get("description") or "",
                "auth": wanted.get("auth") or "", "access_credential": self.credential if wanted.get("auth") else "",
                "skip_certVerify": bool(wanted.get("skip_certVerify")),
                "use_internal_addr": bool(wanted.get("use_internal_addr")), "disabled": bool(wanted.get("disabled"))}
        self._act("register scanner %s at %s" % (self.name, wanted["url"]))
        view = dict(body, uuid=None, is_default=False)
        self.before = {}
        self.after = self._diff_view(view, credential_changed=bool(body["access_credential"]))
        if self.check_mode:
            return view
        try:
            uuid = self.harbor.create_scanner(body)
        except RestError as err:
            if err.status in (400, 409):
                raise HarborError("%s: Harbor refused to register it: %s" % (self.where, err.message))
            raise
        created = self.harbor.scanner(uuid) if uuid else None
        if created is None:
            raise HarborError("%s: Harbor answered 201 but the registration cannot be read back" % self.where)
        if created.get("access_credential"):
            self.secret_values.append(created["access_credential"])
        self.after = self._diff_view(created, credential_changed=bool(body["access_credential"]))
        return created

    def _update(self, current, wanted, registrations):
        differing = self._differing(current, wanted)
        stored = current.get("access_credential")  # Harbor 2.12 returns it; 2.14.4+ and 2.15.1+ do not
        auth = wanted["auth"] if "auth" in wanted else self._value(current, "auth")
        credential_changed = False
        if not auth:
            credential = ""  # no authentication: no credential to keep
        elif self.credential and self.params.get("update_credential") == "always":
            credential = self.credential
            credential_changed = stored != self.credential  # unknowable when Harbor hides it: always sent
        elif stored is not None:
            credential = stored  # what Harbor 2.12 needs back to keep it
        else:
            credential = ""  # later releases keep the stored credential when an update sends none
        known = bool(credential) or (stored is None and bool(self._value(current, "auth")))
        if not known and auth and self.credential and self.params.get("update_credential") != "always":
            credential, credential_changed, known = self.credential, True, True  # auth newly set: its credential
        self._check_auth(auth, known)
        self.before = self._diff_view(current)
        if not differing and not credential_changed:
            self.after = self.before
            return current
        if "url" in wanted:
            self._same_url(wanted, registrations)
        url = wanted.get("url", self._value(current, "url"))
        disabled = wanted["disabled"] if "disabled" in wanted else self._value(current, "disabled")
        if current.get("is_default") and disabled:
            raise HarborError("%s: the system default scanner cannot be disabled; make another registration the "
                              "default first" % self.where)
        if set(differing) & {"url", "auth"} or credential_changed:
            if credential or not auth:
                self._ping(url, auth, credential)
        body = {"name": self.name, "url": url, "auth": auth, "access_credential": credential, "disabled": disabled}
        for field in ("description", "skip_certVerify", "use_internal_addr"):
            body[field] = wanted[field] if field in wanted else self._value(current, field)
        changes = differing + (["access_credential"] if credential_changed else [])
        self._act("update scanner %s (%s)" % (self.name, ", ".join(changes)))
        updated = dict(current, **dict((k, v) for k, v in body.items() if k != "access_credential"))
        self.after = self._diff_view(dict(updated, access_credential=stored), credential_changed)
        if self.check_mode:
            return updated
        try:
            self.harbor.update_scanner(current["uuid"], body)
        except RestError as err:
            if err.status in (400, 403, 409):
                raise HarborError("%s: Harbor refused the update: %s" % (self.where, err.message))
            raise
        return self.harbor.scanner(current["uuid"]) or updated

    def absent(self):
        if self.name == TRIVY:
            self._trivy(None, {})
        current, _registrations = self._find()
        if current is None:
            return {"name": self.name}
        self.before = self._diff_view(current)
        self._act("delete scanner registration %s" % self.name)
        if not self.check_mode:
            try:
                self.harbor.delete_scanner(current["uuid"])
            except RestError as err:
                if err.status == 403:
                    raise HarborError("%s: Harbor refused to delete it: %s" % (self.where, err.message))
                raise
        return {"name": self.name, "uuid": current.get("uuid")}


def project_view(project, scanner=None):
    meta = (project or {}).get("metadata") or {}
    view = {"name": (project or {}).get("name"), "project_id": (project or {}).get("project_id"),
            "public": _truthy(meta.get("public")), "auto_scan": _truthy(meta.get("auto_scan")),
            "prevent_vulnerable": _truthy(meta.get("prevent_vul")), "severity": meta.get("severity"),
            "repo_count": (project or {}).get("repo_count") or 0, "metadata": dict(meta)}
    if scanner is not None:
        view["scanner"] = scanner
    return view


class Project(_Manager):
    """One project, its metadata and its scanner."""

    def __init__(self, harbor, hub, params, check_mode=False):
        super(Project, self).__init__(harbor, hub, params, check_mode)
        self.name = params["name"]

    @property
    def where(self):
        return "Harbor %s: project %s" % (self.harbor.endpoint, self.name)

    def _metadata(self):
        wanted = {"public": _flag(self.params.get("public"))}
        if self.params.get("auto_scan") is not None:
            wanted["auto_scan"] = _flag(self.params["auto_scan"])
        if self.params.get("prevent_vulnerable") is not None:
            wanted["prevent_vul"] = _flag(self.params["prevent_vulnerable"])
        if self.params.get("severity") is not None:
            if self.params["severity"] not in SEVERITIES:
                raise HarborError("%s: severity %r is not one of %s" % (self.where, self.params["severity"],
                                                                        ", ".join(SEVERITIES)))
            wanted["severity"] = self.params["severity"]
        return wanted

    def _scanner(self):
        """The registration named by `scanner`, or None when the task names none."""
        name = self.params.get("scanner")
        if not name:
            return None
        registrations = self.harbor.scanners()
        found = next((r for r in registrations if r.get("name") == name), None)
        if found is None:
            raise HarborError("%s: there is no scanner registration named %s (registered: %s)" % (
                self.where, name, ", ".join(sorted(r.get("name") for r in registrations)) or "none"))
        return found

    def present(self):
        if not PROJECT_NAME.match(self.name) or len(self.name) > 255:
            raise HarborError("%s: Harbor accepts only lower-case project names of letters and digits, optionally "
                              "separated by one . _ or - (at most 255 characters)" % self.where)
        wanted = self._metadata()
        scanner = self._scanner()
        current = self.harbor.project(self.name)
        if current is None:
            self._act("create project %s (%s)" % (self.name, ", ".join("%s=%s" % kv for kv in sorted(wanted.items()))))
            self.before = {}
            view = project_view({"name": self.name, "metadata": wanted})
            if scanner is not None:
                self._act("use scanner %s for project %s" % (scanner["name"], self.name))
                view["scanner"] = scanner["name"]
            self.after = view
            if self.check_mode:
                return view
            try:
                self.harbor.create_project(self.name, wanted)
            except RestError as err:
                if err.status in (400, 403, 409):
                    raise HarborError("%s: Harbor refused to create it: %s" % (self.where, err.message))
                raise
            if scanner is not None:
                self.harbor.set_project_scanner(self.name, scanner["uuid"])
            created = self.harbor.project(self.name) or {"name": self.name, "metadata": wanted}
            return project_view(created, scanner["name"] if scanner else None)
        meta = current.get("metadata") or {}
        differing = dict((k, v) for k, v in wanted.items() if meta.get(k, "false" if k != "severity" else None) != v)
        current_scanner = self.harbor.project_scanner(self.name) if scanner is not None else None
        self.before = project_view(current, (current_scanner or {}).get("name"))
        after = dict(current, metadata=dict(meta, **wanted))
        self.after = project_view(after, scanner["name"] if scanner else None)
        if differing:
            self._act("set %s on project %s" % (", ".join("%s=%s" % kv for kv in sorted(differing.items())),
                                                self.name))
            if not self.check_mode:
                self.harbor.update_project_metadata(self.name, differing)
        if scanner is not None and (current_scanner or {}).get("uuid") != scanner["uuid"]:
            self._act("use scanner %s for project %s" % (scanner["name"], self.name))
            if not self.check_mode:
                self.harbor.set_project_scanner(self.name, scanner["uuid"])
        if not self.changed or self.check_mode:
            return self.after
        return project_view(self.harbor.project(self.name) or after, scanner["name"] if scanner else None)

    def absent(self):
        current = self.harbor.project(self.name)
        if current is None:
            return {"name": self.name}
        self.before = project_view(current)
        repos = current.get("repo_count") or 0
        if repos:
            raise HarborError("%s: it holds %d repositories; Harbor deletes only empty projects (delete its "
                              "repositories first)" % (self.where, repos))
        self._act("delete project %s" % self.name)
        if not self.check_mode:
            try:
                self.harbor.delete_project(self.name)
            except RestError as err:
                if err.status in (403, 412):
                    raise HarborError("%s: Harbor refused to delete it: %s" % (self.where, err.message))
                raise
        return {"name": self.name, "project_id": current.get("project_id")}


def schedule_view(schedule):
    obj = (schedule or {}).get("schedule") or {}
    view = {"type": obj.get("type") or "None", "cron": obj.get("cron") or ""}
    if obj.get("next_scheduled_time"):
        view["next_scheduled_time"] = obj["next_scheduled_time"]
    return view


class ScanAll(_Manager):
    """The scan-all schedule (type None removes it)."""

    @property
    def where(self):
        return "Harbor %s: scan-all schedule" % self.harbor.endpoint

    def _wanted(self):
        kind = self.params.get("type") or "Daily"
        if self.params.get("state") == "absent":
            kind = "None"
        if kind not in SCHEDULE_TYPES:
            raise HarborError("%s: type %r is not one of %s" % (self.where, kind, ", ".join(SCHEDULE_TYPES)))
        if kind == "None":
            return kind, ""
        cron = self.params.get("cron") or SCHEDULE_CRON.get(kind)
        if not cron:
            raise HarborError("%s: a Custom schedule needs cron (6 fields, seconds first, e.g. '0 0 2 * * *')"
                              % self.where)
        fields = cron.split()
        if len(fields) != 6 or fields[0] != "0":
            raise HarborError("%s: cron %r is not a cron Harbor accepts: 6 fields (seconds minutes hours day-of-month "
                              "month day-of-week) whose first (seconds) is 0" % (self.where, cron))
        return kind, " ".join(fields)

    def present(self):
        kind, cron = self._wanted()
        current = self.harbor.scan_all_schedule()
        now = schedule_view(current)
        self.before = now
        self.after = {"type": kind, "cron": cron}
        if now["type"] == kind and (kind == "None" or now["cron"] == cron):
            self.after = now
            return now
        if kind == "None":
            self._act("remove the scan-all schedule (%s %s)" % (now["type"], now["cron"]))
        else:
            self._act("schedule scan all %s (%s)" % (kind, cron))
        if self.check_mode:
            return self.after
        try:
            if not current.get("schedule") and kind != "None":
                self.harbor.create_scan_all_schedule(kind, cron)
            else:
                self.harbor.update_scan_all_schedule(kind, cron)
        except RestError as err:
            if err.status in (400, 412):
                raise HarborError("%s: Harbor refused it: %s" % (self.where, err.message))
            raise
        return schedule_view(self.harbor.scan_all_schedule()) if kind != "None" else self.after

    def absent(self):
        return self.present()


# -- the admin password --------------------------------------------------------------------------------
PASSWORD_LENGTH = 32
PASSWORD_ALPHABET = string.ascii_letters + string.digits
# What Harbor requires of a password (server/v2.0/handler/user.go requireValidSecret).
PASSWORD_RULES = (("upper-case letter", re.compile(r"[A-Z]")), ("lower-case letter", re.compile(r"[a-z]")),
                  ("digit", re.compile(r"[0-9]")))
PASSWORD_KEY = "password"
PENDING_KEY = "pending"
USERNAME_KEY = "username"
ADMIN_PURPOSE = "harbor-admin"
ADMIN_KIND = "harbor-admin-password"
NEW = "(a new password)"


def password_problem(password):
    """Why Harbor would refuse this password (8 to 128 characters with at least one upper-case letter, one
    lower-case letter and one digit), or None."""
    text = password or ""
    if not 8 <= len(text) <= 128:
        return "it has %d characters, not 8 to 128" % len(text)
    missing = [what for what, rule in PASSWORD_RULES if not rule.search(text)]
    return "it has no %s" % " and no ".join(missing) if missing else None


def new_password(length=PASSWORD_LENGTH):
    """A random password of letters and digits that Harbor accepts: drawn again until it has an upper-case letter,
    a lower-case letter and a digit, so every such password is equally likely."""
    while True:
        candidate = "".join(secrets.choice(PASSWORD_ALPHABET) for _position in range(length))
        if password_problem(candidate) is None:
            return candidate


class AdminPassword(_Manager):
    """The password of a Harbor user (the admin by default), kept in a record on the hub.

    Minted once - Harbor takes it at its first start from the Secret the chart reads, so minting needs no
    Harbor - and reused on every later run without asking Harbor. A rotation logs in with the recorded
    password, writes the new one into the record as `pending`, changes it in Harbor (C(PUT
    /users/{user_id}/password)), then makes it the recorded password. A run that dies in between loses nothing:
    the next run finds the pending password and asks Harbor which of the two it accepts.
    """

    def __init__(self, harbor, hub, params, check_mode=False):
        super(AdminPassword, self).__init__(harbor, hub, params, check_mode)
        self.consumer = params["consumer"]
        self.namespace = params.get("record_namespace") or "devsecops-multicluster"
        self.name = params.get("record_name") or "%s-harbor-admin" % self.consumer
        self.username = harbor.username

    @property
    def where(self):
        return "Harbor %s: password of user %s of cluster %s (record %s/%s)" % (
            self.harbor.endpoint, self.username, self.consumer, self.namespace, self.name)

    # -- the record ------------------------------------------------------------------------------------
    def _read(self):
        record = self.hub.get("v1", "Secret", self.name, self.namespace)
        data = dict((k, unb64(v)) for k, v in ((record or {}).get("data") or {}).items())
        self.secret_values.extend(data[k] for k in (PASSWORD_KEY, PENDING_KEY) if data.get(k))
        return record, data

    def _summary(self, record=None, password=None, reused=False, reason=""):
        """What the module returns: where the password is and what it is, never the password."""
        stamp = annotation(record, "minted") or ""
        if password and not stamp:
            created = parse_rfc3339((record or {}).get("metadata", {}).get("creationTimestamp"))
            stamp = iso(created) if created else ""
        return {"record": "%s/%s" % (self.namespace, self.name), "username": self.username,
                "fingerprint": fingerprint(password) if password else "", "minted": stamp,
                "rotated": annotation(record, "rotated") or "", "reused": reused, "reason": reason}

    @staticmethod
    def _view(password, pending=None):
        return {"fingerprint": fingerprint(password) if password and password != NEW else password,
                "pending": bool(pending)}

    def _write(self, record, password, annotations, pending=None):
        """Record `password` (and `pending`, or remove it) with the labels and annotations of a record."""
        data = {PASSWORD_KEY: b64(password), USERNAME_KEY: b64(self.username),
                PENDING_KEY: b64(pending) if pending else None}
        if record is None:
            data = dict((k, v) for k, v in data.items() if v is not None)
        body = record_body(self.namespace, self.name, ADMIN_PURPOSE, self.consumer, ADMIN_KIND, annotations, data)
        return write_record(self.hub, record, body)

    def _recorded(self, password, reason, rotated=False):
        """The annotations of a password just minted (or just taken by Harbor in a rotation)."""
        now = iso(utcnow())
        annotations = {ANNOTATION + "minted": now, ANNOTATION + "fingerprint": fingerprint(password),
                       ANNOTATION + "reason": reason, ANNOTATION + "pending-fingerprint": None,
                       ANNOTATION + "pending-since": None}
        if rotated:
            annotations[ANNOTATION + "rotated"] = now
        return annotations

    def _keep(self, record):
        """The record's annotations as they are (a merge patch that leaves them alone)."""
        return dict((k, v) for k, v in ((record or {}).get("metadata", {}).get("annotations") or {}).items()
                    if k.startswith(ANNOTATION))

    def _promote(self, record, password, reason):
        """Record the password Harbor took in a rotation, without a pending one; the module's result."""
        written = self._write(record, password, self._recorded(password, reason, rotated=True))
        self.after = self._view(password)
        return self._summary(written, password, reason=reason)

    def _drop_pending(self, record, password):
        """Keep the recorded password (Harbor still has it) and remove the pending one."""
        annotations = dict(self._keep(record), **{ANNOTATION + "pending-fingerprint": None,
                                                  ANNOTATION + "pending-since": None})
        return self._write(record, password, annotations)

    # -- Harbor -------------------------------------------------------------------------------------------
    def _accepted(self, password, pending):
        """PENDING_KEY or PASSWORD_KEY: the one Harbor accepts (tried in that order), or None: neither.
        Raises RestError when Harbor cannot be asked."""
        if self.harbor.login(pending, "the pending password recorded in %s/%s" % (self.namespace, self.name)):
            return PENDING_KEY
        if self.harbor.login(password, "the password recorded in %s/%s" % (self.namespace, self.name)):
            return PASSWORD_KEY
        return None

    def _mint(self, record, reason):
        self._act("mint a new password for Harbor user %s of %s and record it in %s/%s (%s)"
                  % (self.username, self.consumer, self.namespace, self.name, reason))
        self.after = self._view(NEW)
        if self.check_mode:
            return self._summary(reason=reason)
        password = new_password()
        self.secret_values.append(password)
        written = self._write(record, password, self._recorded(password, reason))
        self.after = self._view(password)
        return self._summary(written, password, reason=reason)

    def _settle(self, record, password, pending, rotate):
        """A record left with a pending password by a rotation that did not finish: ask Harbor."""
        try:
            accepted = self._accepted(password, pending)
        except RestError as err:
            raise HarborError("%s: the record holds the pending password of a rotation that did not finish, and "
                              "Harbor cannot be asked which password it accepts: %s; the record is unchanged"
                              % (self.where, err.message))
        if accepted is None:
            raise HarborError("%s: Harbor accepts neither the recorded password nor the pending one of a rotation "
                              "that did not finish (was the password changed outside the collection?); the record "
                              "is unchanged" % self.where)
        if accepted == PENDING_KEY:
            reason = "a rotation that did not finish: Harbor took the pending password"
            self._act("record the pending password Harbor took as the password of %s in %s/%s (%s)"
                      % (self.username, self.namespace, self.name, reason))
            self.after = self._view(pending)
            if self.check_mode:
                return self._summary(record, pending, reason=reason)
            return self._promote(record, pending, reason)
        if rotate:
            return self._rotate(record, password, pending)
        reason = "a rotation that did not finish: Harbor still has the recorded password"
        self._act("drop the pending password from %s/%s (%s)" % (self.namespace, self.name, reason))
        self.after = self._view(password)
        if self.check_mode:
            return self._summary(record, password, reason=reason)
        return self._summary(self._drop_pending(record, password), password, reason=reason)

    def _rotate(self, record, password, pending=None):
        """Log in with the recorded password, record the new one as pending, change it in Harbor, promote it."""
        try:
            user = self.harbor.login(password, "the password recorded in %s/%s" % (self.namespace, self.name))
        except RestError as err:
            raise HarborError("%s: cannot rotate: %s; the record is unchanged" % (self.where, err.message))
        if user is None:
            raise HarborError("%s: cannot rotate: Harbor refuses the recorded password (was it changed outside the "
                              "collection?); the record is unchanged" % self.where)
        if user.get("user_id") is None:
            raise HarborError("%s: cannot rotate: Harbor did not give the user's id (GET /api/v2.0/users/current); "
                              "the record is unchanged" % self.where)
        reason = "rotation requested"
        self._act("rotate the password of Harbor user %s of %s (record %s/%s)"
                  % (self.username, self.consumer, self.namespace, self.name))
        self.after = self._view(NEW)
        if self.check_mode:
            return self._summary(record, password, reason=reason)
        new = pending or new_password()
        self.secret_values.append(new)
        if not pending:
            # Kept before Harbor knows it: whatever happens next, the record holds every password Harbor may have.
            record = self._write(record, password, dict(self._keep(record), **{
                ANNOTATION + "pending-fingerprint": fingerprint(new), ANNOTATION + "pending-since": iso(utcnow())}),
                pending=new)
        try:
            self.harbor.change_password(user["user_id"], password, new)
        except RestError as err:
            return self._unconfirmed(record, password, new, err)
        return self._promote(record, new, reason)

    def _unconfirmed(self, record, password, new, failure):
        """The change failed, or its answer was lost: what Harbor accepts now decides what the record keeps."""
        try:
            accepted = self._accepted(password, new)
        except RestError as err:
            accepted, unknown = None, err.message
        else:
            unknown = None if accepted else "Harbor accepts neither password"
        if accepted == PENDING_KEY:
            return self._promote(record, new, "rotation requested (Harbor changed the password; its answer was %s)"
                                 % failure.message)
        if accepted == PASSWORD_KEY:
            self._drop_pending(record, password)
            self.after = self.before
            why = "Harbor refused the new password" if failure.status and failure.status < 500 else \
                "Harbor did not change the password"
            raise HarborError("%s: cannot rotate: %s: %s; the recorded password is unchanged (Harbor still has it)"
                              % (self.where, why, failure.message))
        raise HarborError("%s: cannot rotate: changing the password failed (%s) and which password Harbor has now is "
                          "unknown (%s); the record keeps both, the pending one too, and the next run settles it"
                          % (self.where, failure.message, unknown))

    # -- entry points ---------------------------------------------------------------------------------------
    def present(self, rotate=False):
        record, data = self._read()
        password, pending = data.get(PASSWORD_KEY), data.get(PENDING_KEY)
        self.before = self._view(password, pending) if record is not None else {}
        if record is None:
            return self._mint(None, "no password is recorded")
        if not password:
            return self._mint(record, "the record holds no password")
        if pending:
            return self._settle(record, password, pending, rotate)
        if rotate:
            return self._rotate(record, password)
        self.after = self.before
        labels = record["metadata"].get("labels") or {}
        if labels.get(KIND_LABEL) == ADMIN_KIND and annotation(record, "minted") and \
                annotation(record, "fingerprint") == fingerprint(password) and data.get(USERNAME_KEY) == self.username:
            return self._summary(record, password, reused=True)
        # A record written before the collection kept these: labelled and annotated, the password unchanged.
        reason = "the record lacks the credential label or the minted and fingerprint annotations"
        summary = self._summary(record, password, reused=True, reason=reason)
        self._act("label and annotate the record %s/%s (%s); the password is unchanged"
                  % (self.namespace, self.name, reason))
        if self.check_mode:
            return summary
        annotations = dict(self._keep(record), **{ANNOTATION + "minted": summary["minted"] or iso(utcnow()),
                                                  ANNOTATION + "fingerprint": fingerprint(password)})
        return self._summary(self._write(record, password, annotations), password, reused=True, reason=reason)

    def absent(self):
        record, data = self._read()
        if record is not None:
            self.before = self._view(data.get(PASSWORD_KEY), data.get(PENDING_KEY))
            self.after = {}
            self._act("delete record %s/%s" % (self.namespace, self.name))
            if not self.check_mode:
                self.hub.delete("v1", "Secret", self.name, self.namespace)
        return self._summary()
