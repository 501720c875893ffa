# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report (posture.build_report) as one self-contained HTML page.

Inline CSS, no JavaScript, no external assets. Every value that comes from a cluster or the inventory
goes through `_e()` (HTML-escaped, quotes included) - names of policies, images, records and messages
are whatever the clusters say, so they are treated as hostile.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from html import escape

from ansible_collections.devsecops.multicluster.plugins.module_utils.posture import RESULTS, SEVERITIES, STATES

CSS = """
:root{--healthy:#1e7e34;--warning:#b06000;--critical:#c5221f;--unreachable:#3c4043;--none:#80868b;
--healthy-bg:#e6f4ea;--warning-bg:#fef7e0;--critical-bg:#fce8e6;--unreachable-bg:#e8eaed;--none-bg:#f1f3f4}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#202124;margin:0;background:#f8f9fa}
header.top{padding:20px 28px;background:#fff;border-bottom:4px solid var(--none)}
header.top h1{margin:0 0 4px;font-size:22px}
header.top p{margin:2px 0;color:#5f6368}
header.s-healthy{border-color:var(--healthy)}header.s-warning{border-color:var(--warning)}
header.s-critical{border-color:var(--critical)}header.s-unreachable{border-color:var(--unreachable)}
nav.tiles{display:flex;flex-wrap:wrap;gap:14px;padding:20px 28px}
a.tile{display:block;width:250px;padding:12px 14px;border-radius:8px;text-decoration:none;color:#202124;
border-left:8px solid var(--none);background:var(--none-bg);box-shadow:0 1px 2px rgba(0,0,0,.12)}
a.tile:hover{box-shadow:0 2px 6px rgba(0,0,0,.25)}
a.tile .name{font-weight:600;font-size:16px;word-break:break-all}
a.tile .groups{color:#5f6368;font-size:12px}
a.tile .state{float:right;font-weight:600;text-transform:uppercase;font-size:12px}
a.tile ul{margin:8px 0 0;padding:0;list-style:none;font-size:13px}
.s-healthy.tile{border-color:var(--healthy);background:var(--healthy-bg)}.s-healthy .state{color:var(--healthy)}
.s-warning.tile{border-color:var(--warning);background:var(--warning-bg)}.s-warning .state{color:var(--warning)}
.s-critical.tile{border-color:var(--critical);background:var(--critical-bg)}.s-critical .state{color:var(--critical)}
.s-unreachable.tile{border-color:var(--unreachable);background:var(--unreachable-bg)}
.s-unreachable .state{color:var(--unreachable)}
main{padding:0 28px 28px}
section.cluster{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 20px;box-shadow:0 1px 2px rgba(0,0,0,.12);
border-top:6px solid var(--none)}
section.s-healthy{border-top-color:var(--healthy)}section.s-warning{border-top-color:var(--warning)}
section.s-critical{border-top-color:var(--critical)}section.s-unreachable{border-top-color:var(--unreachable)}
section h2{margin:0 0 4px;font-size:19px}section h2 small{color:#5f6368;font-weight:400;font-size:13px}
section h3{margin:18px 0 6px;font-size:15px}
table{border-collapse:collapse;width:100%;margin:4px 0 6px;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e8eaed;vertical-align:top}
th{background:#f1f3f4;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.msg{color:#5f6368;max-width:520px;word-break:break-word}
tr.r-warning td{background:var(--warning-bg)}tr.r-critical td{background:var(--critical-bg)}
tr.total td{font-weight:600;border-top:2px solid #dadce0}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;background:var(--none);
white-space:nowrap}
.badge.s-healthy{background:var(--healthy)}.badge.s-warning{background:var(--warning)}
.badge.s-critical{background:var(--critical)}.badge.s-unreachable{background:var(--unreachable)}
.hot{color:var(--critical);font-weight:600}
.muted{color:#5f6368;font-size:12.5px}
.error{color:var(--critical)}
.bar{display:flex;height:14px;border-radius:7px;overflow:hidden;background:#e8eaed;max-width:520px;margin:6px 0}
.bar span{display:block;height:100%}
.sev-critical{background:#a50e0e}.sev-high{background:#e8710a}.sev-medium{background:#f9ab00}.sev-low{background:#4285f4}
.sev-unknown{background:#9aa0a6}
.sev{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
footer{padding:10px 28px 24px;color:#5f6368;font-size:12px}
@media print{body{background:#fff}a.tile,section.cluster{box-shadow:none;border:1px solid #dadce0}}
"""


def _e(value):
    """Every value, escaped: text and attribute safe."""
    return escape("" if value is None else "%s" % (value,), quote=True)


def _state(state):
    return state if state in STATES else "none"


def _badge(state, text=None):
    label = text if text is not None else (state or "n/a")
    return '<span class="badge s-%s">%s</span>' % (_state(state), _e(label))


def _anchor(index, name):
    return "cluster-%d-%s" % (index, re.sub(r"[^A-Za-z0-9_-]+", "-", "%s" % name).strip("-")[:60])


def _age(days):
    if days is None:
        return "?"
    if days >= 1:
        return "%d d" % int(days)
    hours = days * 24
    return "%d h" % int(hours) if hours >= 1 else "< 1 h"


def _n(value, hot=False):
    value = value or 0
    return '<td class="n%s">%s</td>' % (" hot" if hot and value else "", _e(value))


def _problems(section):
    """A section's errors and, when it was not collected, why."""
    lines = []
    if section.get("status") in ("not collected", "failed", "unavailable", "not listed") and section.get("message"):
        lines.append(section["message"])
    lines.extend(section.get("errors") or [])
    return "".join('<p class="error">%s</p>' % _e(line) for line in lines)


def _tile(index, cluster):
    comps = cluster["components"]["items"]
    healthy = sum(1 for i in comps if i["state"] == "healthy")
    policies = cluster["policies"]["totals"]
    vulns = cluster["vulnerabilities"]["totals"]
    records = cluster["credentials"]["records"]
    attention = sum(1 for r in records if r["state"] != "healthy")
    lines = []
    if not cluster["reachable"]:
        lines.append("not reachable")
    else:
        lines.append("components %d/%d healthy" % (healthy, len(comps)))
        if cluster["acs"].get("overall"):
            lines.append("ACS %s" % cluster["acs"]["overall"])
        elif cluster["acs"]["status"] not in ("not secured", "not collected"):
            lines.append("ACS %s" % cluster["acs"]["status"])
        if cluster["policies"]["status"] != "not installed":
            lines.append("policies %d fail, %d pass" % (policies["fail"], policies["pass"]))
        if cluster["vulnerabilities"]["status"] != "not installed":
            lines.append("CVEs %d critical, %d high" % (vulns["critical"], vulns["high"]))
    if records:
        lines.append("credentials %d%s" % (len(records), ", %d to look at" % attention if attention else ""))
    return ('<a class="tile s-%s" href="#%s"><span class="state">%s</span><span class="name">%s</span><br>'
            '<span class="groups">%s</span><ul>%s</ul></a>'
            % (_state(cluster["state"]), _anchor(index, cluster["name"]), _e(cluster["state"]), _e(cluster["name"]),
               _e(", ".join(cluster["groups"]) or "-"), "".join("<li>%s</li>" % _e(line) for line in lines)))


def _components(section):
    out = ["<h3>Components</h3>"]
    if section["items"]:
        out.append("<table><tr><th>Component</th><th>Kind</th><th>Object</th><th>Status</th><th>Health</th>"
                   "<th>Details</th></tr>")
        for item in section["items"]:
            where = "/".join(p for p in (item.get("namespace"), item.get("name")) if p)
            details = item.get("message") or ""
            if item.get("csv"):
                details = ("%s %s" % (item["csv"], details)).strip()
            out.append('<tr class="r-%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="msg">%s</td></tr>'
                       % (_state(item["state"]) if item["state"] != "healthy" else "ok", _e(item.get("component")),
                          _e(item.get("kind")), _e(where), _e(item.get("status")), _badge(item["state"]),
                          _e(details)))
        out.append("</table>")
    elif section["status"] != "not collected":
        out.append('<p class="muted">No component of the collection was found on this cluster.</p>')
    if section.get("not_installed"):
        out.append('<p class="muted">Not installed (the cluster does not serve these kinds): %s</p>'
                   % _e(", ".join(section["not_installed"])))
    out.append(_problems(section))
    return "".join(out)


def _acs(acs, reachable):
    if acs["status"] == "not secured" or (not reachable and acs["status"] != "collected"):
        return ""
    out = ["<h3>ACS secured cluster</h3>"]
    if acs["status"] == "collected":
        out.append("<table><tr><th>Central on</th><th>Name at Central</th><th>Overall</th><th>Sensor</th>"
                   "<th>Collector</th><th>Admission control</th><th>Last contact</th></tr>")
        out.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr></table>"
                   % (_e(acs["central"]), _e(acs["name"]), _badge(acs["state"], acs["overall"]), _e(acs["sensor"]),
                      _e(acs["collector"]), _e(acs["admission_control"]), _e(acs["last_contact"] or "never")))
    else:
        out.append("<p>%s %s</p>" % (_badge(acs["state"], acs["status"]), _e(acs.get("message"))))
    return "".join(out)


def _policies(section):
    out = ["<h3>Policy results (Kyverno policy reports)</h3>"]
    if section["status"] == "not installed":
        return out[0] + '<p class="muted">Not installed: the cluster serves no wgpolicyk8s.io policy reports.</p>'
    if section["by_policy"]:
        rows = sorted(section["by_policy"], key=lambda p: (-(p["fail"] + p["error"]), -p["warn"], p["policy"]))
        out.append('<table><tr><th>Policy</th>%s</tr>' % "".join('<th class="n">%s</th>' % r for r in RESULTS))
        for row in rows:
            klass = "r-warning" if row["fail"] or row["error"] else "ok"
            out.append('<tr class="%s"><td>%s</td>%s</tr>' % (
                klass, _e(row["policy"]), "".join(_n(row[r], hot=r in ("fail", "error")) for r in RESULTS)))
        out.append('<tr class="total"><td>%d reports, %d policies</td>%s</tr></table>' % (
            section["reports"], len(rows), "".join(_n(section["totals"][r]) for r in RESULTS)))
    elif section["status"] != "not collected":
        out.append('<p class="muted">%d policy reports, no results yet.</p>' % section["reports"])
    out.append(_problems(section))
    return "".join(out)


def _vulnerabilities(section):
    out = ["<h3>Vulnerabilities (Trivy Operator)</h3>"]
    if section["status"] == "not installed":
        return out[0] + '<p class="muted">Not installed: the cluster serves no VulnerabilityReports.</p>'
    totals = section["totals"]
    found = sum(totals[s] for s in SEVERITIES)
    if section["status"] != "not collected":
        out.append('<p>%d reports, %d images, %d findings</p>' % (section["reports"], section["images"], found))
    if found:
        out.append('<div class="bar">%s</div>' % "".join(
            '<span class="sev-%s" style="width:%.2f%%"></span>' % (s, 100.0 * totals[s] / found)
            for s in SEVERITIES if totals[s]))
    out.append('<table style="max-width:520px"><tr>%s</tr><tr>%s</tr></table>' % (
        "".join('<th class="n"><span class="sev sev-%s"></span>%s</th>' % (s, s) for s in SEVERITIES),
        "".join(_n(totals[s], hot=s == "critical") for s in SEVERITIES)))
    if section["top_images"]:
        out.append('<table><tr><th>Image</th>%s<th class="n">workloads</th></tr>' % "".join(
            '<th class="n">%s</th>' % s for s in SEVERITIES))
        for image in section["top_images"]:
            out.append("<tr><td>%s</td>%s%s</tr>" % (_e(image["image"]), "".join(
                _n(image[s], hot=s == "critical") for s in SEVERITIES), _n(image["workloads"])))
        out.append("</table>")
    out.append(_problems(section))
    return "".join(out)


def _credentials(section, thresholds):
    records = section["records"]
    if not records and section["status"] == "not collected" and not section.get("errors"):
        return ""
    out = ["<h3>Credentials (records on the hub)</h3>"]
    if records:
        out.append("<table><tr><th>Record</th><th>Held on</th><th>For</th><th>Purpose</th><th>Kind</th>"
                   "<th>Minted</th><th class=\"n\">Age</th><th>Expires</th><th>State</th></tr>")
        for record in records:
            expires = record.get("expires") or "never"
            if record.get("expires_in_days") is not None:
                expires = "%s (%s)" % (expires, "expired" if record["expires_in_days"] <= 0 else
                                       "in %s" % _age(record["expires_in_days"]))
            out.append('<tr class="r-%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                       '<td class="n">%s</td><td>%s</td><td>%s %s</td></tr>'
                       % (_state(record["state"]) if record["state"] != "healthy" else "ok",
                          _e("%s/%s" % (record.get("namespace"), record.get("name"))), _e(record.get("held_on")),
                          _e(record.get("cluster")), _e(record.get("purpose")), _e(record.get("kind")),
                          _e(record.get("minted")), _e(_age(record.get("age_days"))), _e(expires),
                          _badge(record["state"]), _e(record.get("reason"))))
        out.append("</table>")
        out.append('<p class="muted">Flagged: expired (critical), expiring within %s days or minted more than %s days '
                   'ago (warning). Only the records\' labels and annotations are read, never their data.</p>'
                   % (_e(thresholds.get("credential_expiry_warning_days", "?")),
                      _e(thresholds.get("credential_max_age_days", "?"))))
    elif section["status"] == "collected":
        out.append('<p class="muted">No credential record for this cluster.</p>')
    out.append(_problems(section))
    return "".join(out)


def _section(index, cluster, thresholds):
    head = ('<section id="%s" class="cluster s-%s"><h2>%s %s <small>%s%s</small></h2>'
            % (_anchor(index, cluster["name"]), _state(cluster["state"]), _badge(cluster["state"]), _e(cluster["name"]),
               _e(", ".join(cluster["groups"])), _e(" - read %s" % cluster["collected_at"]) if cluster["collected_at"] else ""))
    body = []
    if not cluster["reachable"]:
        body.append('<p class="error">%s</p>' % _e(cluster.get("error") or "the cluster could not be read"))
    else:
        body.append(_components(cluster["components"]))
    body.append(_acs(cluster["acs"], cluster["reachable"]))
    if cluster["reachable"]:
        body.append(_policies(cluster["policies"]))
        body.append(_vulnerabilities(cluster["vulnerabilities"]))
    body.append(_credentials(cluster["credentials"], thresholds))
    return head + "".join(body) + "</section>"


def render_html(report, title="DevSecOps posture"):
    """The whole page, as text."""
    summary = report["summary"]
    counts = ", ".join("%d %s" % (summary["states"][s], s) for s in STATES if summary["states"].get(s))
    thresholds = report.get("thresholds") or {}
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>%s - %s</title><style>%s</style></head><body>" % (_e(title), _e(report["generated_at"]), CSS),
        '<header class="top s-%s"><h1>%s %s</h1><p>Generated %s (UTC) - %d cluster%s: %s</p></header>'
        % (_state(report["state"]), _e(title), _badge(report["state"]), _e(report["generated_at"]),
           summary["clusters"], "" if summary["clusters"] == 1 else "s", _e(counts or "none")),
        '<nav class="tiles">%s</nav><main>' % "".join(_tile(i, c) for i, c in enumerate(report["clusters"])),
    ]
    parts.extend(_section(i, c, thresholds) for i, c in enumerate(report["clusters"]))
    parts.append('</main><footer>devsecops.multicluster posture report (%s). The same data as JSON sits next to this '
                 'file. States: healthy, warning, critical, unreachable - a cluster takes the worst state of its '
                 'components, ACS health, policy results, vulnerabilities and credentials.</footer></body></html>\n'
                 % _e(report.get("schema")))
    return "".join(parts)
