"""The lab's chart repository: the stand-in charts of tests/lab/charts, packaged by the real helm.

At ``lab up`` the charts are packaged with ``helm package`` and indexed with ``helm repo index``
(relative URLs, so one package set serves every lab whatever its port); the result is cached under
``~/.cache/devsecops-multicluster/charts/<digest>``, keyed by the chart directories' content and the
helm build, so a warm start copies it instead of packaging again. The stand-ins process serves the
copy in the lab directory over plain HTTP on 127.0.0.1:<chart_repository port> (``index.yaml`` and
the ``.tgz`` files), as any static chart repository does; a chart or version that is not in the
index gives helm's own "chart ... version ... not found" error.

Plain HTTP, not HTTPS: kubernetes.core.helm (6.x) has no option for a chart repository's CA (its
``ca_cert`` is the Kubernetes API's), so an HTTPS repository with a lab CA could only be used with
``insecure_skip_tls_verify`` or a process-wide SSL_CERT_FILE - neither is what the collection should
learn to do. Upstream repositories are HTTPS with public certificates, which need no option either.

The version resolution below (``resolve``) is Argo CD's for a Helm source (util/versions/tags.go,
Masterminds semver constraints), used by the Argo CD Application stand-in.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CHARTS_DIR = os.path.join(HERE, "charts")


class ChartError(Exception):
    """A chart or version the repository cannot give; the message is Argo CD's wording."""


def helm_env(home, base=None):
    """Environment for a helm run with its own config, cache and data directories (as Argo CD's
    repo-server gives every helm run): the user's repositories and plugins never leak in."""
    env = dict(base if base is not None else os.environ)
    for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
        env[var] = os.path.join(home, sub)
    env.pop("HELM_KUBECONTEXT", None)
    return env


def charts_digest(src=CHARTS_DIR, helm=""):
    """Digest of every file under the chart sources plus the helm build (its cache directory names it)."""
    digest = hashlib.sha256(os.path.basename(os.path.dirname(helm)).encode())
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, src).encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(handle.read() + b"\0")
    return digest.hexdigest()[:16]


def chart_dirs(src=CHARTS_DIR):
    return sorted(os.path.join(src, d) for d in os.listdir(src) if os.path.isfile(os.path.join(src, d, "Chart.yaml")))


def package(helm, cache_root, src=CHARTS_DIR):
    """Package and index the charts once per content; returns (directory, True if it came from the cache)."""
    out = os.path.join(cache_root, "charts", charts_digest(src, helm))
    if os.path.exists(os.path.join(out, "index.yaml")):
        return out, True
    os.makedirs(os.path.dirname(out), exist_ok=True)
    work = tempfile.mkdtemp(prefix=".charts-", dir=os.path.dirname(out))
    try:
        env = helm_env(os.path.join(work, ".helm"))
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        for chart in chart_dirs(src):
            subprocess.run([helm, "package", chart, "--destination", repo], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        subprocess.run([helm, "repo", "index", repo], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            os.rename(repo, out)
        except OSError:  # another lab packaged the same content meanwhile
            if not os.path.exists(os.path.join(out, "index.yaml")):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out, False


# -- versions, as Argo CD resolves a Helm source's targetRevision -------------------------------------
_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_TERM = re.compile(r"^\s*(!=|>=|=>|<=|=<|>|<|=|~>|~|\^)?\s*(v?[0-9xX*]+(?:\.[0-9xX*]+)?(?:\.[0-9xX*]+)?"
                   r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\s*$")


def parse_version(text):
    """(major, minor, patch, prerelease) of a semantic version as Masterminds' NewVersion accepts it
    ("1", "1.2", "v1.2.3", "1.2.3-rc.1"); None if it is not one."""
    match = _VERSION.match(str(text).strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0), match.group(4) or "")


def is_version(text):
    """Argo CD's versions.IsVersion: an exact version, which it pulls without reading the index."""
    return parse_version(text) is not None


def _key(version):
    major, minor, patch, pre = version
    return (major, minor, patch, 0 if pre else 1, pre)


def _term(text):
    """One constraint term -> list of (op, version-key) checks it stands for, or None if unparsable."""
    match = _TERM.match(text)
    if not match:
        return None
    op, ver = match.group(1) or "=", match.group(2).lstrip("v")
    op = {"=>": ">=", "=<": "<=", "~>": "~"}.get(op, op)
    core = ver.split("-")[0].split("+")[0]
    parts = core.split(".")
    wild = [p in ("x", "X", "*") for p in parts]
    if any(wild):
        parts = parts[:wild.index(True)]
    nums = [int(p) for p in parts]
    given = len(nums)
    lo = tuple(nums + [0] * (3 - given))
    low = (lo[0], lo[1], lo[2], "")

    def bump(level):
        if level == 0:
            return (lo[0] + 1, 0, 0, "")
        if level == 1:
            return (lo[0], lo[1] + 1, 0, "")
        return (lo[0], lo[1], lo[2] + 1, "")

    if given == 0:  # "*", "x": anything (a release)
        return [(">=", _key((0, 0, 0, "")))]
    if given == 3 and not any(wild):
        exact = parse_version(ver)
        low = exact
    if op == "=":
        if given == 3:
            return [("==", _key(low))]
        return [(">=", _key(low)), ("<", _key(bump(given - 1)))]
    if op == "!=":
        if given == 3:
            return [("!=", _key(low))]
        return [("out", (_key(low), _key(bump(given - 1))))]
    if op == "~":
        return [(">=", _key(low)), ("<", _key(bump(1 if given >= 2 else 0)))]
    if op == "^":
        if lo[0] > 0 or given == 1:
            upper = bump(0)
        elif lo[1] > 0 or given == 2:
            upper = bump(1)
        else:
            upper = bump(2)
        return [(">=", _key(low)), ("<", _key(upper))]
    if op == ">" and given < 3:
        return [(">=", _key(bump(given - 1)))]
    if op == "<=" and given < 3:
        return [("<", _key(bump(given - 1)))]
    return [(op, _key(low))]


def _check(checks, key):
    for op, ref in checks:
        ok = {"==": lambda: key == ref, "!=": lambda: key != ref, ">=": lambda: key >= ref,
              ">": lambda: key > ref, "<": lambda: key < ref, "<=": lambda: key <= ref,
              "out": lambda: not ref[0] <= key < ref[1]}[op]()
        if not ok:
            return False
    return True


def parse_constraint(text):
    """A Masterminds constraint ("3.4.*", "^3.4", ">=3.0, <4", "1.x || 2.x") as a list of alternatives,
    each a list of checks; None if it is not a constraint."""
    alternatives = []
    for alternative in str(text).split("||"):
        terms = [t for t in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", alternative.strip()) if t]
        if not terms:
            return None
        checks = []
        for term in terms:
            parsed = _term(term)
            if parsed is None:
                return None
            checks.extend(parsed)
        alternatives.append(checks)
    return alternatives


def satisfies(version, constraint):
    """True if the version text satisfies the constraint text (pre-releases only match exactly, as in
    Masterminds semver)."""
    parsed, alternatives = parse_version(version), parse_constraint(constraint)
    if parsed is None or alternatives is None:
        return False
    if parsed[3] and "-" not in constraint:
        return False
    return any(_check(checks, _key(parsed)) for checks in alternatives)


def entries(index, chart):
    """The index entries of a chart; ChartError worded as Argo CD's util/helm/index.go if there is none."""
    found = (index or {}).get("entries", {}).get(chart)
    if not found:
        raise ChartError("chart '%s' not found in index" % chart)
    return found


def resolve(index, chart, revision):
    """Argo CD's resolution of a Helm source's targetRevision against the repository index: an exact version
    is returned as it is (Argo CD pulls it without looking - helm then says whether it exists); a constraint
    resolves to the highest matching version. Raises ChartError with Argo CD's messages."""
    if is_version(revision):
        return revision
    tags = [str(e.get("version")) for e in entries(index, chart)]
    if parse_constraint(revision) is None:
        if revision in tags:
            return revision
        raise ChartError("invalid revision: failed to determine semver constraint: improper constraint: %s" % revision)
    best = None
    for tag in tags:
        parsed = parse_version(tag)
        if parsed is not None and satisfies(tag, revision) and (best is None or _key(parsed) > _key(best[0])):
            best = (parsed, tag)
    if best is None:
        raise ChartError("invalid revision: version matching constraint not found in %d tags" % len(tags))
    return best[1]


def find(index, chart, version):
    """The index entry of chart at exactly this version, or None (helm then fails the pull)."""
    for entry in (index or {}).get("entries", {}).get(chart) or []:
        if str(entry.get("version")) == str(version) or (
                parse_version(entry.get("version")) is not None
                and parse_version(entry.get("version")) == parse_version(version)):
            return entry
    return None


def load_index(text):
    return yaml.safe_load(text) or {}


# -- the server -----------------------------------------------------------------------------------------
class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        import logging  # pylint: disable=import-outside-toplevel
        logging.getLogger("standins").debug("chart repository: %s", fmt % args)

    def do_POST(self):  # noqa: N802 - a static repository
        self.send_error(405)


class ChartRepositoryServer(ThreadingHTTPServer):
    """A static chart repository on 127.0.0.1:<port> serving one directory, as GitHub Pages serves upstream's."""

    daemon_threads = True

    def __init__(self, address, directory):
        self.directory = directory
        super().__init__(address, lambda *a, **kw: _Handler(*a, directory=directory, **kw))
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5},
                                       name="chart-repository", daemon=True)

    def start(self):
        self.thread.start()
        return self
