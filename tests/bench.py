"""make bench: how fast the collection converges the lab, and how much it asks of the API servers.

A benchmark, not a test: it measures and reports, it passes or fails nothing. On a lab of its own
(build/bench/lab, never the lab `make lab-up` runs), for each spoke count asked (default 2: lab-dev and
lab-prod):

* the wall time of `playbooks/site.yml`'s first converge and of a no-op re-run, the number of tasks (task
  headers) and of task results (ok + changed + skipped + failed over the hosts);
* the API requests each cluster's apiserver served during the run, read from its own metrics
  (`apiserver_request_total` before and after), net of the lab's background (the stand-ins and the
  controller-manager also talk to the apiservers: their rate is measured while nothing runs and
  subtracted), with the busiest verb/resource pairs of the no-op run;
* for the first spoke count, the baseline: the objects the collection wrote on each cluster (those with a
  field manager of the collection), applied again with one `kubectl apply --server-side` per cluster (the
  lab's own kubectl, tests/lab/build-kubectl.sh), with its wall time and API requests.

Results go to build/bench/results.json and a Markdown table on stdout; `--doc` writes that table into
docs/performance.md between its markers, with the machine and the date.

    python -m tests.bench [--spokes 2] [--scale 2,4,10] [--doc] [--keep]
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.lab.kube import KubeError  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position

OUT = os.path.join(REPO, "build", "bench")
DOC = os.path.join(REPO, "docs", "performance.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)", re.M)
METRIC = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$', re.M)
LABEL = re.compile(r'(\w+)="([^"]*)"')
# Field managers the collection writes with: kubernetes.core's client (its user agent) and the roles'
# server-side-apply managers.
MANAGERS = ("OpenAPI-Generator", "devsecops-multicluster")
# Never part of what the collection wrote, whoever touched them last.
SKIP_KINDS = {"Event", "Lease", "EndpointSlice", "Endpoints", "ComponentStatus"}
BACKGROUND_WINDOW = 15


def spoke_names(count):
    """lab-dev, lab-prod, lab-dev-2, lab-prod-2, ... (development and production alternate)."""
    names = []
    for index in range(count):
        group = "lab-dev" if index % 2 == 0 else "lab-prod"
        serial = index // 2 + 1
        names.append(group if serial == 1 else "%s-%d" % (group, serial))
    return names


def request_counts(kube):
    """{(verb, group, resource, subresource): count} from the apiserver's own metrics."""
    text = _metrics_text(kube)
    counts = {}
    for match in METRIC.finditer(text):
        labels = dict(LABEL.findall(match.group("labels")))
        key = (labels.get("verb", ""), labels.get("group", ""), labels.get("resource", ""),
               labels.get("subresource", ""))
        counts[key] = counts.get(key, 0) + int(float(match.group("value")))
    return counts


def _metrics_text(kube):
    resp = kube.session.get(kube.server + "/metrics", timeout=30, verify=kube.ca_file)
    resp.raise_for_status()
    return resp.text


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = os.path.join(OUT, "lab")
        self.inventory = os.path.join(OUT, "inventory")
        os.environ["DEVSECOPS_LAB_DIR"] = self.dir
        os.environ["DEVSECOPS_LAB_INVENTORY"] = os.path.join(self.inventory, "hosts.yml")
        self.lab = None
        self.rates = {}

    # -- lab -------------------------------------------------------------------
    def start(self, spokes):
        os.makedirs(self.inventory, exist_ok=True)
        group_vars = os.path.join(self.inventory, "group_vars")
        if not os.path.islink(group_vars):
            os.symlink(os.path.join(REPO, "inventories", "lab", "group_vars"), group_vars)
        lab = Lab(self.dir)
        if lab.state:
            lab.down(quiet=True)
        started = time.monotonic()
        Lab(self.dir).up(("lab-hub",) + tuple(spoke_names(spokes)))
        self.lab = Lab(self.dir)
        return round(time.monotonic() - started, 1)

    def stop(self):
        if self.lab and not self.args.keep:
            self.lab.down(quiet=True)

    def kubes(self):
        return {name: self.lab.kube(name) for name in self.lab.clusters}

    def snapshot(self):
        return {name: request_counts(kube) for name, kube in self.kubes().items()}

    def measure_background(self):
        """Requests per second each apiserver serves while no playbook runs (stand-ins, controller-manager)."""
        before = self.snapshot()
        time.sleep(BACKGROUND_WINDOW)
        after = self.snapshot()
        self.rates = {name: sum(delta(after[name], before[name]).values()) / BACKGROUND_WINDOW for name in after}

    def requests(self, before, after, seconds):
        out = {}
        for name in after:
            changed = delta(after[name], before[name])
            total = sum(changed.values())
            top = sorted(changed.items(), key=lambda kv: -kv[1])[:8]
            out[name] = {"total": total, "net": max(0, round(total - self.rates.get(name, 0) * seconds)),
                         "top": [{"verb": k[0], "resource": "/".join(p for p in (k[1], k[2], k[3]) if p) or "(discovery)",
                                  "count": v} for k, v in top]}
        return out

    # -- runs ------------------------------------------------------------------
    def playbook(self, playbook):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"), ANSIBLE_NOCOLOR="1")
        for key in list(env):
            if key.startswith("K8S_AUTH_"):
                del env[key]
        before = self.snapshot()
        started = time.monotonic()
        proc = subprocess.run(["ansible-playbook", "-i", self.inventory, os.path.join(REPO, playbook)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        seconds = time.monotonic() - started
        after = self.snapshot()
        recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
                 for m in RECAP.finditer(proc.stdout)}
        if proc.returncode != 0:
            log = os.path.join(OUT, "failed-run.log")
            with open(log, "w") as handle:
                handle.write(proc.stdout)
            raise RuntimeError("%s failed (rc %d); its output is in %s" % (playbook, proc.returncode, log))
        return {"seconds": round(seconds, 1),
                "tasks": proc.stdout.count("\nTASK ["),
                "task_results": sum(r["ok"] + r["changed"] + r["skipped"] + r["failed"] for r in recap.values()),
                "changed": sum(r["changed"] for r in recap.values()),
                "requests": self.requests(before, after, seconds)}

    # -- baseline ----------------------------------------------------------------
    @staticmethod
    def resources(kube):
        """(api_version, plural, kind, namespaced) of every listable, patchable resource, preferred versions."""
        found = []
        groups = [("v1", "/api/v1")]
        for group in kube.request("GET", "/apis")["groups"]:
            version = group["preferredVersion"]["groupVersion"]
            groups.append((version, "/apis/" + version))
        for version, path in groups:
            for res in kube.request("GET", path)["resources"]:
                verbs = set(res.get("verbs") or [])
                if "/" in res["name"] or not {"list", "patch"} <= verbs or res["kind"] in SKIP_KINDS:
                    continue
                found.append((version, res["name"], res["kind"], res["namespaced"]))
        return found

    @staticmethod
    def written_by_collection(obj):
        return any((entry.get("manager") or "").startswith(MANAGERS) and entry.get("subresource", "") == ""
                   for entry in obj["metadata"].get("managedFields") or [])

    @staticmethod
    def applyable(obj, api_version, kind):
        meta = obj["metadata"]
        body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        body["apiVersion"], body["kind"] = api_version, kind
        body["metadata"] = {k: meta[k] for k in ("name", "namespace", "labels", "annotations", "finalizers")
                            if meta.get(k)}
        return body

    def baseline(self, kubectl):
        """One `kubectl apply --server-side` per cluster of the objects the collection wrote there."""
        result = {}
        with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
            files = {}
            for name, kube in self.kubes().items():
                objects = []
                for api_version, plural, kind, _namespaced in self.resources(kube):
                    try:
                        items = kube.get(api_version, plural)["items"]
                    except KubeError:
                        continue
                    objects += [self.applyable(o, api_version, kind) for o in items if self.written_by_collection(o)]
                path = os.path.join(tmp, name + ".yaml")
                with open(path, "w") as handle:
                    yaml.safe_dump_all(objects, handle, default_flow_style=False)
                os.chmod(path, 0o600)  # Secrets among them
                files[name] = (path, len(objects))
            before = self.snapshot()
            started = time.monotonic()
            for name, (path, count) in files.items():
                one = time.monotonic()
                proc = subprocess.run([kubectl, "--kubeconfig", self.lab.kubeconfig, "--context", name, "apply",
                                       "--server-side", "--force-conflicts", "--field-manager", "bench-baseline",
                                       "-f", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      check=False)
                result[name] = {"objects": count, "seconds": round(time.monotonic() - one, 1), "rc": proc.returncode}
                if proc.returncode != 0:
                    result[name]["error"] = proc.stdout.strip().splitlines()[-1:]
            seconds = time.monotonic() - started
            after = self.snapshot()
        requests = self.requests(before, after, seconds)
        for name in result:
            result[name]["requests"] = requests[name]["net"]
        return {"seconds": round(seconds, 1), "clusters": result}


def build_kubectl():
    proc = subprocess.run([os.path.join(REPO, "tests", "lab", "build-kubectl.sh")], stdout=subprocess.PIPE, text=True,
                          check=True)
    return proc.stdout.strip().splitlines()[-1]


def machine():
    cpus = os.cpu_count()
    with open("/proc/meminfo") as handle:
        mem = int(handle.readline().split()[1]) // (1024 * 1024)
    return "%s, %d cores, %d GiB, Python %s" % (platform.machine(), cpus, mem, platform.python_version())


def table(results):
    lines = ["Machine: %s. Date: %s." % (results["machine"], results["date"]), ""]
    lines += ["| spokes | lab start | first converge | no-op re-run | tasks (results) no-op | API requests no-op, per cluster (net) |",
              "|---|---|---|---|---|---|"]
    for run in results["runs"]:
        noop = run["noop"]
        per = ", ".join("%s %d" % (n, r["net"]) for n, r in sorted(noop["requests"].items()))
        lines.append("| %d | %.0f s | %.0f s | %.0f s | %d (%d) | %s |" % (
            run["spokes"], run["lab_start"], run["first"]["seconds"], noop["seconds"], noop["tasks"],
            noop["task_results"], per))
    base = results.get("baseline")
    if base:
        lines += ["", "Baseline (%d spokes): the objects the collection wrote, applied again with one "
                  "`kubectl apply --server-side` per cluster:" % results["runs"][0]["spokes"], "",
                  "| cluster | objects | wall time | API requests (net) |", "|---|---|---|---|"]
        for name, info in sorted(base["clusters"].items()):
            lines.append("| %s | %d | %.1f s | %d |" % (name, info["objects"], info["seconds"], info["requests"]))
        noop = results["runs"][0]["noop"]["seconds"]
        lines += ["", "No-op re-run / baseline (all clusters, one after the other): %.0f s / %.1f s = %.1fx." % (
            noop, base["seconds"], noop / base["seconds"] if base["seconds"] else float("nan"))]
    first = results["runs"][0]["noop"]["requests"]
    lines += ["", "Busiest requests of the no-op re-run (%d spokes):" % results["runs"][0]["spokes"], "",
              "| cluster | verb | resource | requests |", "|---|---|---|---|"]
    for name, info in sorted(first.items()):
        for top in info["top"][:5]:
            lines.append("| %s | %s | %s | %d |" % (name, top["verb"], top["resource"], top["count"]))
    return "\n".join(lines)


def write_doc(text):
    with open(DOC) as handle:
        doc = handle.read()
    if BEGIN not in doc or END not in doc:
        raise RuntimeError("%s has no %s ... %s markers" % (DOC, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    with open(DOC, "w") as handle:
        handle.write(head + BEGIN + "\n" + text + "\n" + END + tail)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="2", help="comma-separated spoke counts (default 2)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the kubectl baseline")
    parser.add_argument("--doc", action="store_true", help="write the table into docs/performance.md")
    parser.add_argument("--keep", action="store_true", help="leave the last lab running")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.scale.split(",") if c]
    os.makedirs(OUT, exist_ok=True)
    bench = Bench(args)
    results = {"machine": machine(), "date": datetime.date.today().isoformat(), "runs": []}
    kubectl = None if args.no_baseline else build_kubectl()
    try:
        for index, spokes in enumerate(counts):
            print("bench: %d spokes: starting the lab" % spokes, flush=True)
            run = {"spokes": spokes, "lab_start": bench.start(spokes)}
            bench.measure_background()
            print("bench: %d spokes: first converge" % spokes, flush=True)
            run["first"] = bench.playbook("playbooks/site.yml")
            print("bench: %d spokes: no-op re-run" % spokes, flush=True)
            run["noop"] = bench.playbook("playbooks/site.yml")
            run["background_rps"] = {n: round(r, 2) for n, r in bench.rates.items()}
            results["runs"].append(run)
            if index == 0 and kubectl:
                print("bench: %d spokes: kubectl baseline" % spokes, flush=True)
                results["baseline"] = bench.baseline(kubectl)
            with open(os.path.join(OUT, "results.json"), "w") as handle:
                json.dump(results, handle, indent=2)
            if index < len(counts) - 1:
                bench.lab.down(quiet=True)
    except (RuntimeError, KubeError, subprocess.CalledProcessError) as err:
        print("bench: %s" % err, file=sys.stderr)
        bench.stop()
        return 1
    bench.stop()
    text = table(results)
    print(text)
    if args.doc:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
