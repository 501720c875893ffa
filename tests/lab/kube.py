"""A small Kubernetes REST client for the lab, its stand-ins and the tests' assertions.

It speaks plain HTTPS to one apiserver with the lab CA and an admin bearer token.
The collection itself never uses this; it goes through kubernetes.core.
"""

import json
import time

import requests

PLURALS = {}


class KubeError(Exception):
    def __init__(self, status, message, body=None):
        super().__init__("HTTP %s: %s" % (status, message))
        self.status = status
        self.body = body or {}


class Kube:
    def __init__(self, server, ca_file, token, name=""):
        self.server = server.rstrip("/")
        self.name = name
        self.session = requests.Session()
        self.ca_file = ca_file
        self.session.headers["Authorization"] = "Bearer " + token
        self.session.headers["Accept"] = "application/json"

    # -- paths -------------------------------------------------------------
    @staticmethod
    def path(api_version, plural, namespace=None, name=None, subresource=None):
        base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
        parts = [base]
        if namespace:
            parts += ["namespaces", namespace]
        parts.append(plural)
        if name:
            parts.append(name)
        if subresource:
            parts.append(subresource)
        return "/".join(parts)

    # -- verbs -------------------------------------------------------------
    def request(self, method, path, body=None, params=None, content_type="application/json",
                timeout=30, stream=False):
        headers = {}
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body)
        resp = self.session.request(method, self.server + path, data=data, params=params,
                                    headers=headers, timeout=timeout, stream=stream,
                                    verify=self.ca_file)  # per request: REQUESTS_CA_BUNDLE must not win
        if stream:
            if resp.status_code >= 400:
                raise KubeError(resp.status_code, resp.text[:500])
            return resp
        if resp.status_code >= 400:
            try:
                payload = resp.json()
            except ValueError:
                payload = {"message": resp.text[:500]}
            raise KubeError(resp.status_code, payload.get("message", resp.reason), payload)
        if not resp.content:
            return {}
        return resp.json()

    def get(self, api_version, plural, name=None, namespace=None, params=None):
        return self.request("GET", self.path(api_version, plural, namespace, name), params=params)

    def get_or_none(self, api_version, plural, name, namespace=None):
        try:
            return self.get(api_version, plural, name, namespace)
        except KubeError as err:
            if err.status == 404:
                return None
            raise

    def list(self, api_version, plural, namespace=None, label_selector=None):
        params = {"labelSelector": label_selector} if label_selector else None
        return self.get(api_version, plural, namespace=namespace, params=params)

    def create(self, api_version, plural, body, namespace=None):
        return self.request("POST", self.path(api_version, plural, namespace), body)

    def ensure(self, api_version, plural, body, namespace=None):
        """Create, or leave alone if it already exists."""
        try:
            return self.create(api_version, plural, body, namespace)
        except KubeError as err:
            if err.status != 409:
                raise
            return self.get(api_version, plural, body["metadata"]["name"], namespace)

    def merge_patch(self, api_version, plural, name, patch, namespace=None, subresource=None):
        return self.request("PATCH", self.path(api_version, plural, namespace, name, subresource),
                            patch, content_type="application/merge-patch+json")

    def apply(self, api_version, plural, body, namespace=None, manager="devsecops-lab",
              subresource=None):
        """Server-side apply, forcing ownership (the lab owns what it seeds)."""
        path = self.path(api_version, plural, namespace, body["metadata"]["name"], subresource)
        return self.request("PATCH", path, body, params={"fieldManager": manager, "force": "true"},
                            content_type="application/apply-patch+yaml", timeout=120)

    def delete(self, api_version, plural, name, namespace=None):
        try:
            return self.request("DELETE", self.path(api_version, plural, namespace, name))
        except KubeError as err:
            if err.status != 404:
                raise
            return None

    def watch(self, api_version, plural, resource_version=None, timeout_seconds=60):
        """Yield (type, object) watch events across all namespaces until the server closes."""
        params = {"watch": "1", "timeoutSeconds": str(timeout_seconds), "allowWatchBookmarks": "true"}
        if resource_version:
            params["resourceVersion"] = resource_version
        resp = self.request("GET", self.path(api_version, plural), params=params,
                            timeout=timeout_seconds + 15, stream=True)
        with resp:
            for line in resp.iter_lines():
                if line:
                    event = json.loads(line)
                    yield event["type"], event["object"]

    def wait_for(self, predicate, timeout=30, interval=0.2, what="condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise TimeoutError("%s: timed out after %ss waiting for %s" % (self.name, timeout, what))
