# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""preflight_report: every cluster's preflight findings as one table (playbooks/preflight.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

COLUMNS = (("cluster", "CLUSTER"), ("check", "CHECK"), ("object", "OBJECT"), ("cause", "CAUSE"))


def _text(value):
    return " ".join(str(value if value is not None else "-").split()) or "-"


def preflight_report(hosts, results, extra=None):
    """hosts: the play's hosts; results: each one's preflight_result (None where the checks did not finish),
    in the same order; extra: more results (the hub checked on behalf of a --limit run).

    Returns {rows, table (lines), hints (lines), problems (count), clusters (with problems), checked, summary}.
    """
    results = list(results or [])
    pairs = [(host, results[i] if i < len(results) else None) for i, host in enumerate(hosts or [])]
    pairs += [((r or {}).get("cluster") or "-", r) for r in (extra or []) if r]
    rows, hints, checked = [], [], []
    for host, result in pairs:
        if not isinstance(result, dict) or not isinstance(result.get("problems"), list):
            rows.append({"cluster": host, "check": "preflight", "object": "-",
                         "cause": "the checks did not finish on this cluster (see its error above)",
                         "hint": "fix the error shown for this cluster, then run again"})
            continue
        if host not in checked:
            checked.append(host)
        for problem in result["problems"]:
            row = dict((key, _text((problem or {}).get(key))) for key in ("check", "object", "cause"))
            row["cluster"] = result.get("cluster") or host
            row["hint"] = _text((problem or {}).get("hint")) if (problem or {}).get("hint") else ""
            rows.append(row)
    widths = dict((key, max([len(title)] + [len(r[key]) for r in rows])) for key, title in COLUMNS)
    table = []
    if rows:
        def line(values):
            return "  ".join(values[i].ljust(widths[key]) if i < len(COLUMNS) - 1 else values[i]
                             for i, (key, _title) in enumerate(COLUMNS))
        table.append(line([title for _key, title in COLUMNS]))
        table.append(line(["-" * widths[key] for key, _title in COLUMNS]))
        table.extend(line([r[key] for key, _title in COLUMNS]) for r in rows)
        for row in rows:
            hint = "%s: %s" % (row["check"], row["hint"])
            if row["hint"] and hint not in hints:
                hints.append(hint)
    clusters = []
    for row in rows:
        if row["cluster"] not in clusters:
            clusters.append(row["cluster"])
    if rows:
        summary = ("preflight: %d problem(s) on %s (table above); nothing was changed. Fix them, skip a check with "
                   "preflight_skip, or skip the preflight with --skip-tags preflight."
                   % (len(rows), ", ".join(clusters)))
    else:
        summary = "preflight: OK - %d cluster(s) ready: %s" % (len(checked), ", ".join(checked) or "none")
    return {"rows": rows, "table": table, "hints": hints, "problems": len(rows), "clusters": clusters,
            "checked": checked, "summary": summary}


class FilterModule(object):
    def filters(self):
        return {"preflight_report": preflight_report}
