"""Integration tests: real ansible-playbook runs against the lab, assertions on real API objects.

Every run's output is scanned for every secret the session knows (the lab's admin tokens,
tokens given to or minted by a test): a secret in any output fails that test.

With pytest-xdist (``-n N --dist loadfile``, as ``make test`` runs them) every worker has a lab of its
own: gw0 the default one (.lab/, inventories/lab/hosts.yml), gwN a second lab in .lab-gwN/ that the
worker starts and stops (kept with KEEP_LAB=1). Test modules never share a lab while they run.
"""

import base64
import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
# The collection's own module_utils (signing checks) import as ansible_collections.devsecops.multicluster.
sys.path.insert(0, os.path.join(REPO, "build", "collections"))

from tests.lab.kube import KubeError  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position

RECORDS = "devsecops-multicluster"
PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "playbooks")
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)", re.M)


# Keys of records that hold nothing secret.
NOT_SECRET = {"server", "endpoint", "hostname", "username", "url", "name", "namespace", "cluster", "expires",
              "cosign.pub", "cosign.pub.previous"}
PUBLIC_SUFFIXES = (".crt", "cert.pem", "ca.pem", ".pub")


class Secrets:
    """Values that must never appear in any run's output."""

    def __init__(self):
        self.values = set()

    def add(self, *values):
        for value in values:
            if value and len(value) >= 8:
                self.values.add(value)

    def add_record(self, secret):
        """The secret values of a credential record (or copy): tokens, passwords, private keys, docker
        credentials - not its public parts (endpoints, user names, certificates, public keys)."""
        for key, encoded in (secret.get("data") or {}).items():
            if key in NOT_SECRET or key.endswith(PUBLIC_SUFFIXES):
                continue
            value = base64.b64decode(encoded).decode("utf-8", "replace")
            if key == ".dockerconfigjson":
                for entry in json.loads(value).get("auths", {}).values():
                    self.add(entry.get("auth"), entry.get("password"))
            elif "PRIVATE KEY-----" in value:
                self.add(*[line for line in value.splitlines() if "-----" not in line])
            else:
                self.add(value)

    def scan(self, text, what):
        leaked = [v for v in self.values if v in text]
        assert not leaked, "%s: output contains %d secret value(s) (first chars: %s)" % (
            what, len(leaked), ", ".join(v[:4] + "..." for v in leaked))


class Run:
    def __init__(self, argv, proc, elapsed):
        self.argv = argv
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.elapsed = elapsed
        self.recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
                      for m in RECAP.finditer(self.output)}

    def changed(self, host=None):
        hosts = [host] if host else list(self.recap)
        return sum(self.recap[h]["changed"] for h in hosts)

    def failed(self, host=None):
        hosts = [host] if host else list(self.recap)
        return sum(self.recap[h]["failed"] + self.recap[h]["unreachable"] for h in hosts)

    def summary(self):
        """The run in one line: playbook and options, without the inventory and vars file paths."""
        words, skip = [], False
        for arg in self.argv[1:]:
            if skip:
                skip = False
                if arg.startswith("@"):
                    words.append("-e @vars")
                continue
            if arg in ("-i", "-e"):
                skip = True
                continue
            words.append(os.path.basename(arg) if arg.endswith(".yml") else arg)
        return " ".join(words)

    def failures(self):
        """Each failed task of the run: its TASK header and its fatal/failed lines."""
        lines, task, found = self.output.splitlines(), None, []
        for line in lines:
            if line.startswith("TASK ["):
                task = line
            elif line.startswith(("fatal: ", "failed: ")) or line.startswith("[ERROR]"):
                if task and task not in found:
                    found.append(task)
                found.append(line[:3000])
        return "\n".join(found)

    def __repr__(self):
        return "<Run rc=%s recap=%s>\nfailed tasks:\n%s\nend of the output:\n%s" % (
            self.rc, self.recap, self.failures() or "(none)", self.output[-4000:])


# Every ansible-playbook run of the session: (test, run summary, seconds, rc), for the summary at the end.
RUNS = []


def pytest_configure(config):
    """An xdist worker other than gw0 works on a lab of its own, beside the default one."""
    worker = (getattr(config, "workerinput", None) or {}).get("workerid")
    if worker and worker != "gw0":
        directory = os.environ.get("DEVSECOPS_LAB_DIR", os.path.join(REPO, ".lab")) + "-" + worker
        os.environ["DEVSECOPS_LAB_DIR"] = directory
        os.environ["DEVSECOPS_LAB_INVENTORY"] = os.path.join(directory, "hosts.yml")


def pytest_sessionfinish(session):
    """A worker hands its runs to the controller, which prints the summary."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["runs"] = [list(run) for run in RUNS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pylint: disable=unused-argument
    RUNS.extend(tuple(run) for run in (getattr(node, "workeroutput", None) or {}).get("runs", []))


def pytest_terminal_summary(terminalreporter):
    """Where the lab tests' time went: the slowest ansible-playbook runs and the time per playbook."""
    if not RUNS:
        return
    total = sum(seconds for _, _, seconds, _ in RUNS)
    terminalreporter.section("ansible-playbook runs: %d, %.0f s" % (len(RUNS), total))
    per_playbook = {}
    for _, summary, seconds, _ in RUNS:
        entry = per_playbook.setdefault(summary.split()[0], [0, 0.0])
        entry[0] += 1
        entry[1] += seconds
    for playbook, (count, seconds) in sorted(per_playbook.items(), key=lambda item: -item[1][1]):
        terminalreporter.write_line("%7.0f s %3d x %s" % (seconds, count, playbook))
    ledger = os.path.join(REPO, "build", "integration-runs.json")
    os.makedirs(os.path.dirname(ledger), exist_ok=True)
    with open(ledger, "w") as handle:
        json.dump([{"test": test, "run": summary, "seconds": round(seconds, 1), "rc": rc}
                   for test, summary, seconds, rc in RUNS], handle, indent=1)
    terminalreporter.write_line("every run, in order: %s" % os.path.relpath(ledger, REPO))
    terminalreporter.write_line("slowest runs:")
    for test, summary, seconds, rc in sorted(RUNS, key=lambda run: -run[2])[:15]:
        terminalreporter.write_line("%7.0f s rc=%d %s  (%s)" % (seconds, rc, summary, test))


@pytest.fixture(scope="session")
def lab():
    lab = Lab()
    started = False
    if not lab.running():
        lab.up()
        started = True
        lab = Lab()
    yield lab
    if started and not os.environ.get("KEEP_LAB"):
        lab.down()


@pytest.fixture(scope="session")
def secrets(lab):
    registry = Secrets()
    for info in lab.clusters.values():
        registry.add(info["admin_token"], info["nobody_token"])
    for cluster in lab.clusters.values():
        with open(os.path.join(cluster["dir"], "admin.key")) as handle:
            registry.add(*[line for line in handle.read().splitlines() if "PRIVATE" not in line])
    return registry


def lab_inventory(tmpdir):
    """inventories/lab (its group_vars) with the hosts the running lab wrote: a second lab
    (DEVSECOPS_LAB_INVENTORY elsewhere) is targeted, never the default lab's hosts."""
    default = os.path.join(REPO, "inventories", "lab")
    hosts = Lab.inventory_file()
    if os.path.dirname(os.path.abspath(hosts)) == default:
        return default
    inventory = tmpdir / "lab-inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").symlink_to(os.path.abspath(hosts))
    (inventory / "group_vars").symlink_to(os.path.join(default, "group_vars"))
    return str(inventory)


@pytest.fixture(scope="session")
def ansible(lab, secrets, tmp_path_factory):
    """ansible_playbook(playbook, inventory=None, extra_vars=None, check=False, limit=None, tags=None, ...) -> Run."""
    tmpdir = tmp_path_factory.mktemp("ansible")
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, "build", "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCAL_TEMP": str(tmpdir / "local"),
        "ANSIBLE_HOME": str(tmpdir / "home"),
        "TMPDIR": str(tmpdir),
        "PYTHONWARNINGS": "ignore",
    })
    for key in list(env):
        if key.startswith("K8S_AUTH_"):
            del env[key]
    counter = [0]
    default_inventory = lab_inventory(tmpdir)

    def run(playbook, inventory=None, extra_vars=None, check=False, diff=False, limit=None, tags=None,
            verbosity=0, env_extra=None):
        counter[0] += 1
        path = playbook if os.path.isabs(playbook) else (
            os.path.join(REPO, playbook) if playbook.startswith("playbooks/") else os.path.join(PLAYBOOKS, playbook))
        argv = ["ansible-playbook", "-i", inventory or default_inventory, path]
        if extra_vars:
            vars_file = tmpdir / ("vars-%d.yml" % counter[0])
            vars_file.write_text(yaml.safe_dump(extra_vars))
            argv += ["-e", "@%s" % vars_file]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if limit:
            argv += ["--limit", limit]
        if tags:
            argv += ["--tags", tags]
        if verbosity:
            argv.append("-" + "v" * verbosity)
        run_env = dict(env, **(env_extra or {}))
        started = time.monotonic()
        proc = subprocess.run(argv, cwd=REPO, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=900, check=False)
        result = Run(argv, proc, time.monotonic() - started)
        RUNS.append((os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], result.summary(), result.elapsed,
                     result.rc))
        # Always on: whatever the run minted is recorded on the hub by now; none of it may be in its output.
        try:
            records = lab.kube("lab-hub").list("v1", "secrets", namespace=RECORDS)["items"]
        except KubeError:
            records = []  # a test that stopped the hub's apiserver
        for record in records:
            secrets.add_record(record)
        secrets.scan(result.output, "ansible-playbook %s" % os.path.basename(path))
        assert "Traceback (most recent call last)" not in result.output, result
        return result

    return run


@pytest.fixture(scope="session")
def hub(lab):
    return lab.kube("lab-hub")


@pytest.fixture(scope="session")
def dev(lab):
    return lab.kube("lab-dev")


@pytest.fixture(scope="session")
def prod(lab):
    return lab.kube("lab-prod")


def write_inventory(path, hosts):
    """A one-off inventory: hosts = {name: {group:..., vars...}}."""
    children = {"hub": {"hosts": {}}, "development": {"hosts": {}}, "production": {"hosts": {}}}
    for name, data in hosts.items():
        data = dict(data)
        group = data.pop("group")
        children[group]["hosts"][name] = data
    inventory = {"all": {"vars": {"ansible_connection": "local",
                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                         "children": {"hub": children["hub"],
                                      "spokes": {"children": {"development": children["development"],
                                                              "production": children["production"]}}}}}
    with open(path, "w") as handle:
        yaml.safe_dump(inventory, handle)
    return str(path)
