# devsecops.multicluster - the two commands the README promises are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/devsecops-multicluster
REQ_HASH := $(shell cat tests/requirements.txt requirements.txt | sha256sum | cut -c1-12)
VENV := $(CACHE)/venv-$(REQ_HASH)
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/build/collections
SELF := $(COLLECTIONS)/ansible_collections/devsecops/multicluster
SANITY := $(or $(TMPDIR),/tmp)/devsecops-multicluster-sanity/ansible_collections
# ansible-test installs its own pinned linters with --requirements: a virtualenv of its own.
SANITY_VENV := $(CACHE)/sanity-venv-$(REQ_HASH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help system-deps venv collection lab-bins lab-up lab-down lab-reset lab-status unit sanity lint checks integration molecule test bench demo clean

help:
	@echo "make demo   - build and start the lab, converge on it, say where to look"
	@echo "make test   - unit, sanity, lint, integration and molecule tests"
	@echo "make lab-up | lab-down | lab-status | lab-reset CLUSTER=lab-dev"

venv: $(VENV)/.installed
system-deps:
	@tests/system-deps.sh

# The path holds a hash of the requirement files: a change makes a new venv, file times do not matter.
$(VENV)/.installed: | system-deps
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r tests/requirements.txt
	touch $@

collection: system-deps venv
	@mkdir -p $(dir $(SELF))
	@ln -sfn $(CURDIR) $(SELF)

lab-bins:
	tests/lab/build.sh
	tests/lab/build-helm.sh

lab-up: collection
	$(BIN)/python -m tests.lab up

lab-down: venv
	$(BIN)/python -m tests.lab down

lab-status: venv
	$(BIN)/python -m tests.lab status

lab-reset: venv
	$(BIN)/python -m tests.lab reset $(CLUSTER)

unit: collection
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

$(SANITY_VENV)/.installed:
	$(PYTHON) -m venv --clear $(SANITY_VENV)
	$(SANITY_VENV)/bin/pip install --disable-pip-version-check -q $$(grep -E '^(ansible-core|kubernetes|PyYAML|jmespath|requests-oauthlib|jsonpatch)==' tests/requirements.txt)
	touch $@

sanity: collection $(SANITY_VENV)/.installed
	ver=$$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" $$($(SANITY_VENV)/bin/python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py | head -1); \
	  mkdir -p $(HOME)/.ansible/test/cache && cp tests/sanity/bootstrap_pip.py $(HOME)/.ansible/test/cache/get_pip_$${ver//./_}.py
	rm -rf $(dir $(SANITY)) && mkdir -p $(SANITY)/devsecops $(SANITY)/kubernetes
	rsync -a --exclude-from=tests/sanity/copy-exclude.txt ./ $(SANITY)/devsecops/multicluster/
	cp -r $$($(BIN)/python -c 'import ansible_collections.kubernetes.core as m; print(list(m.__path__)[0])') $(SANITY)/kubernetes/core
	cd $(SANITY)/devsecops/multicluster && PATH=$(SANITY_VENV)/bin:$$PATH ansible-test sanity --python 3.11 --color no --requirements 2>&1 | grep -v '^Requirement already' | tail -n 60 ; test $${PIPESTATUS[0]} -eq 0

lint: collection
	@# a copy of this collection that molecule's prerun may have installed would shadow the working tree
	rm -rf $(HOME)/.ansible/collections/ansible_collections/devsecops/multicluster
	ansible-lint --offline --profile production
	shellcheck -x tests/lab/build.sh tests/lab/build-helm.sh tests/lab/build-kubectl.sh tests/lab/gocache.sh tests/*.sh .ci/*

# The lab tests run in LAB_WORKERS pytest-xdist workers, whole modules at a time: gw0 on the default lab,
# every other worker on a lab of its own that it starts and stops (tests/integration/conftest.py).
LAB_WORKERS ?= 2
LAB_TESTS := $(BIN)/python -m pytest -q -p no:cacheprovider --durations=25 -n $(LAB_WORKERS) --dist loadfile tests/integration

integration: collection
	LAB_PYTHON=$(BIN)/python tests/with-lab.sh $(LAB_TESTS)

molecule: collection
	LAB_PYTHON=$(BIN)/python tests/with-lab.sh molecule test --all

# unit, sanity and lint need no lab and about one core between them: side by side, each target's output in one piece.
checks:
	$(MAKE) --no-print-directory -j3 --output-sync=target unit sanity lint

test: checks
	LAB_PYTHON=$(BIN)/python tests/with-lab.sh bash -c '$(LAB_TESTS) && molecule test --all'

# A benchmark, not a test (docs/performance.md): SCALE=2,4,10 for the spoke-count series, DOC=1 to write the table.
bench: collection
	$(BIN)/python -m tests.bench --scale $(or $(SCALE),2) $(if $(DOC),--doc)

demo: collection
	$(BIN)/python -m tests.lab up
	ansible-playbook -i inventories/lab playbooks/site.yml
	ansible-playbook -i inventories/lab playbooks/report.yml -e report_dir=$(CURDIR)/build/report
	@$(BIN)/python -m tests.lab status
	@$(BIN)/python -m tests.lab show
	@echo "Posture report: $(CURDIR)/build/report/posture.html (JSON: build/report/posture.json)"
	@echo "Look at: inventories/lab/hosts.yml (the inventory), .lab/kubeconfig (contexts lab-hub, lab-dev, lab-prod),"
	@echo "         .lab/logs/ (apiserver and stand-in logs); 'make lab-down' stops the lab."

clean:
	-$(BIN)/python -m tests.lab down
	rm -rf build .pytest_cache
