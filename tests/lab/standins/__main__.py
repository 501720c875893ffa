"""Run every stand-in against every lab cluster until SIGTERM."""

import argparse
import logging
import os
import signal
import threading

import yaml

from tests.lab.chartrepo import ChartRepositoryServer
from tests.lab.lab import BASE_DOMAIN, HERE, Lab
from tests.lab.standins.acm_import import ImportStandin
from tests.lab.standins.acs import CentralStandin, SecuredClusterStandin
from tests.lab.standins.argocd import ArgoCDStandin
from tests.lab.standins.harbor import HarborStandin
from tests.lab.standins.hub import HubStandin
from tests.lab.standins.olm import OLMStandin
from tests.lab.standins.pipelines import PipelinesStandin
from tests.lab.standins.quay import QuayBridgeStandin, QuayOperatorStandin
from tests.lab.standins.runtime import Scheduler, Watcher


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lab = Lab(args.state)
    with open(os.path.join(HERE, "catalog.yaml")) as handle:
        catalog = yaml.safe_load(handle)
    scheduler = Scheduler(stop)
    scheduler.start()
    if lab.state.get("chart_repository"):  # the stand-in charts, packaged at lab up (tests/lab/chartrepo.py)
        ChartRepositoryServer(("127.0.0.1", lab.state["chart_repository"]["port"]),
                              lab.state["chart_repository"]["dir"]).start()
    watchers = []
    for cluster in lab.clusters:
        kube = lab.kube(cluster)
        lock = threading.RLock()
        domain = "apps.%s.%s" % (cluster, BASE_DOMAIN)
        sensor = SecuredClusterStandin(kube, scheduler, lambda c=cluster: lab.kube(c), stop)
        sensor.start()
        bridge = QuayBridgeStandin(kube, lambda c=cluster: lab.kube(c), stop)
        bridge.start()
        harbor = HarborStandin(kube, lab, cluster, domain)
        harbor.start()
        for standin in (OLMStandin(kube, catalog, scheduler), HubStandin(kube, scheduler, domain),
                        ImportStandin(kube, lab), CentralStandin(kube, scheduler, domain, lab, cluster), sensor,
                        QuayOperatorStandin(kube, scheduler, domain, lab, cluster), bridge,
                        PipelinesStandin(kube), ArgoCDStandin(kube, lab, cluster, scheduler, lock), harbor):
            for api_version, plural, handler in standin.watches():
                watchers.append(Watcher(kube, api_version, plural, handler, lock, stop))
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        watcher.synced.wait(30)
    with open(os.path.join(args.state, "standins.ready"), "w") as handle:
        handle.write(str(os.getpid()))
    logging.info("stand-ins ready: %d watches on %d clusters", len(watchers), len(lab.clusters))
    stop.wait()


if __name__ == "__main__":
    main()
