"""The execution environment definition, checked by the tools themselves: `ansible-galaxy collection build`
makes the collection artifact execution-environment.yml installs, and ansible-builder v3 validates the
definition and writes the build context (`ansible-builder create`). Building the image itself needs the base
image from registry.redhat.io, which this machine does not reach; docs/aap.md gives the build command."""

import os
import shutil
import subprocess
import sys
import tarfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def tool(name):
    path = os.path.join(BIN, name)
    found = path if os.path.exists(path) else shutil.which(name)
    assert found, "%s is not installed: it is in tests/requirements.txt (make venv)" % name
    return found


def test_definition_builds_a_context_with_the_collection_and_its_requirements(tmp_path):
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(REPO, "execution-environment.yml")) as handle:
        definition = yaml.safe_load(handle)
    artifact = "%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert definition["version"] == 3
    assert definition["additional_build_files"][0]["src"] == artifact, "the definition names this version's artifact"

    built = subprocess.run([tool("ansible-galaxy"), "collection", "build", REPO, "--output-path", str(tmp_path)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert built.returncode == 0, built.stdout
    with tarfile.open(tmp_path / artifact) as tar:
        names = tar.getnames()
    assert "plugins/modules/olm_operator.py" in names and "roles/kyverno/files/pss_policies.yml" in names
    assert not [n for n in names if n.startswith(("tests/lab", "tests/integration", ".lab", "build/"))]

    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(os.path.join(REPO, name), tmp_path / name)
    created = subprocess.run([tool("ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert created.returncode == 0, created.stdout
    context = tmp_path / "context"
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()).read_text()
    assert definition["images"]["base_image"]["name"] in containerfile
    assert (context / "_build" / "collections" / artifact).exists()
    with open(context / "_build" / "requirements.yml") as handle:
        collections = {c["name"]: c for c in yaml.safe_load(handle)["collections"]}
    assert collections["kubernetes.core"]["version"] == galaxy["dependencies"]["kubernetes.core"]
    with open(os.path.join(REPO, "requirements.txt")) as handle:
        wanted = {line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()}
    assert wanted <= set((context / "_build" / "requirements.txt").read_text().splitlines())
