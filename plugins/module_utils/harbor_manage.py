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

The access credential of a scanner registration is write-only for the collection: Harbor 2.12 still
returns it from GET (it is never put in results, diffs or messages), later Harbor releases (2.14.4,
2.15.1) do not return it at all. So a credential changed in the task is sent to Harbor only with
C(update_credential: always); with C(on_create) (the default) it is set when the registration is
created and left alone afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

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
