# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access to one cluster through kubernetes.core's client, with errors that name the cluster.

Every module of the collection that talks to a Kubernetes API goes through `Cluster`:
it builds the client with kubernetes.core (same options, same environment fallbacks as
kubernetes.core's own modules), resolves kinds through discovery once per module run, and
turns every client-side failure into a `ClusterError` whose message names the cluster, the
object and the cause, without a traceback and without echoing credentials.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import os

from ansible.module_utils.common.text.converters import to_native

try:
    import kubernetes.client
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError, ResourceNotUniqueError
    from kubernetes.client.rest import ApiException
    from kubernetes.config import ConfigException
    from urllib3.exceptions import HTTPError as Urllib3HTTPError
    from urllib3.exceptions import MaxRetryError, SSLError
    HAS_K8S = True
except ImportError:  # pragma: no cover - AnsibleK8SModule reports the missing library
    HAS_K8S = False

    class _Missing(Exception):
        status = None
        reason = None

    DynamicApiError = ResourceNotFoundError = ResourceNotUniqueError = ApiException = _Missing
    ConfigException = Urllib3HTTPError = MaxRetryError = SSLError = _Missing

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    HAS_KUBERNETES_CORE = True
except ImportError:  # pragma: no cover - reported by Cluster.client
    from ansible.module_utils.basic import AnsibleModule as AnsibleK8SModule
    AUTH_ARG_SPEC = {}
    HAS_KUBERNETES_CORE = False

    class CoreException(Exception):  # type: ignore[no-redef]
        pass

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "devsecops.multicluster"
REQUEST_TIMEOUT = 60
# Accept header of a metadata-only list (what the API server's metadata informers use).
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"

CLUSTER_ARG_SPEC = dict(
    copy.deepcopy(AUTH_ARG_SPEC),
    cluster_name=dict(type="str"),
)


# Options of the far side of a cross-cluster module (hub:, target:): the same names as the
# connection options, but read only from what the task gives - never from K8S_AUTH_* or the
# play's module_defaults, which describe the module's own side.
FAR_SIDE_OPTIONS = dict(
    kubeconfig=dict(type="raw", no_log=True),
    context=dict(type="str"),
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"]),
    validate_certs=dict(type="bool", default=True, aliases=["verify_ssl"]),
    cluster_name=dict(type="str"),
)


def far_side_option(required=True):
    """argument_spec entry for a far-side connection dict."""
    return dict(type="dict", required=required, options=copy.deepcopy(FAR_SIDE_OPTIONS))


@contextlib.contextmanager
def isolated_client_environment(mask_environment):
    """Build a client that sees nothing but its own options.

    kubernetes' load_kube_config() replaces the process-wide default Configuration, and
    kubernetes.core starts every new configuration as a copy of that default: without a reset
    a second client would inherit the first cluster's CA, client certificate or token. The far
    side of a cross-cluster module additionally hides K8S_AUTH_* from kubernetes.core.
    """
    saved = {}
    if mask_environment:
        saved = dict((k, os.environ.pop(k)) for k in list(os.environ) if k.startswith("K8S_AUTH_"))
    if HAS_K8S:
        kubernetes.client.Configuration.set_default(kubernetes.client.Configuration())
    try:
        yield
    finally:
        os.environ.update(saved)
        if HAS_K8S:
            kubernetes.client.Configuration.set_default(kubernetes.client.Configuration())


class _OptionsView(object):
    """What kubernetes.core's get_api_client reads from a module, for a far-side options dict."""

    def __init__(self, module, options):
        self._module = module
        self.params = dict((key, None) for key in AUTH_ARG_SPEC)
        self.params.update(dict((k, v) for k, v in options.items() if k in AUTH_ARG_SPEC))
        self.server_side_dry_run = False

    def requires(self, *args, **kwargs):
        return self._module.requires(*args, **kwargs)


def cluster_argument_spec(**options):
    """The connection options of kubernetes.core plus cluster_name, plus a module's own options."""
    spec = copy.deepcopy(CLUSTER_ARG_SPEC)
    spec.update(options)
    return spec


def hide(module, values):
    """Mask these values wherever they would appear in the module's output."""
    target = getattr(module, "_module", module)
    for value in values:
        if value:
            target.no_log_values.add(value)


def cluster_module(argument_spec, **kwargs):
    """The AnsibleModule of every module that talks to one cluster (check mode supported)."""
    return AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)


class ClusterError(Exception):
    """A failure already phrased for the user (cluster, object, cause)."""

    def __init__(self, message, details=None):
        super(ClusterError, self).__init__(message)
        self.message = message
        self.details = details or {}


def cluster_label(params):
    """How messages name the cluster: cluster_name, else context, else API URL."""
    for key in ("cluster_name", "context", "host"):
        if params.get(key):
            return to_native(params[key])
    return "the cluster of the default kubeconfig"


def object_label(kind, name=None, namespace=None):
    if not name:
        return kind
    if namespace:
        return "%s %s/%s" % (kind, namespace, name)
    return "%s %s" % (kind, name)


def _api_message(err):
    """The apiserver's own message from a Status body, else the reason phrase."""
    body = getattr(err, "body", None)
    if body:
        try:
            import json
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            data = json.loads(body)
            if isinstance(data, dict) and data.get("message"):
                return to_native(data["message"])
        except (ValueError, TypeError):
            pass
    return to_native(getattr(err, "reason", None) or err)


def explain(err, cluster, what, server=None):
    """Turn a client exception into one sentence naming cluster, object and cause."""
    where = "cluster %s" % cluster
    if isinstance(err, ClusterError):
        return err.message
    if isinstance(err, CoreException):
        # kubernetes.core wraps what went wrong ("Failed to retrieve requested object: ..."): the API's or the
        # connection's own error says more.
        inner = err.__cause__ or err.__context__
        if isinstance(inner, (DynamicApiError, ApiException, MaxRetryError, SSLError, Urllib3HTTPError, OSError,
                              ConfigException)):
            return explain(inner, cluster, what, server)
        return "%s: %s: %s" % (where, what, to_native(err))
    if isinstance(err, (DynamicApiError, ApiException)):
        status = getattr(err, "status", None)
        message = _api_message(err)
        if status == 401:
            return ("%s: authentication failed (HTTP 401 Unauthorized) while accessing %s: the token or "
                    "client certificate was rejected" % (where, what))
        if status == 403:
            return "%s: permission denied (HTTP 403) on %s: %s" % (where, what, message)
        if status == 404:
            return "%s: %s not found (HTTP 404): %s" % (where, what, message)
        if status == 409:
            return "%s: conflict (HTTP 409) on %s: %s" % (where, what, message)
        if status == 422:
            return "%s: %s was rejected as invalid (HTTP 422): %s" % (where, what, message)
        if status is not None and status >= 500:
            return "%s: API server error (HTTP %s) on %s: %s" % (where, status, what, message)
        return "%s: request for %s failed (HTTP %s): %s" % (where, what, status, message)
    if isinstance(err, (MaxRetryError, SSLError, Urllib3HTTPError, OSError)):
        reason = getattr(err, "reason", None) or err
        text = to_native(reason)
        target = " at %s" % server if server else ""
        if isinstance(reason, SSLError) or isinstance(err, SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return ("%s: TLS verification of the API server%s failed while accessing %s: %s (give the "
                    "cluster's CA with ca_cert or in the kubeconfig; validate_certs stays on by default)"
                    % (where, target, what, text))
        if "refused" in text.lower():
            cause = "connection refused"
        elif "timed out" in text.lower() or "timeout" in text.lower():
            cause = "connection timed out"
        elif "resolve" in text.lower() or "name or service" in text.lower():
            cause = "host name does not resolve"
        else:
            cause = text
        return "%s: API server%s unreachable while accessing %s: %s" % (where, target, what, cause)
    if isinstance(err, ConfigException):
        return "%s: cannot load connection settings: %s" % (where, to_native(err))
    return "%s: unexpected error while accessing %s: %s" % (where, what, to_native(err))


class Cluster(object):
    """One cluster, reached with the options of one module (no other source is consulted
    than what kubernetes.core itself consults for those options)."""

    def __init__(self, module, client=None, options=None, role=None):
        """The module's own cluster, or with `options` a far side (`role` names the option)."""
        self.module = module
        self.options = options
        self.params = options if options is not None else module.params
        self.name = cluster_label(self.params)
        self.role = role
        self._client = client
        self._resources = {}
        if options is not None and not (options.get("kubeconfig") or options.get("host")):
            raise ClusterError("%s: give kubeconfig (with context) or host (with api_key or a client certificate); "
                               "the far side of a cross-cluster task is never taken from the environment or "
                               "module_defaults" % (role or "target"))

    @property
    def server(self):
        client = self.client
        try:
            return client.configuration.host
        except AttributeError:
            return None

    @property
    def client(self):
        if self._client is None:
            if not HAS_KUBERNETES_CORE:
                raise ClusterError("the kubernetes.core collection (>=5.0.0) is required on the controller")
            far_side = self.options is not None
            source = _OptionsView(self.module, self.options) if far_side else self.module
            try:
                with isolated_client_environment(mask_environment=far_side):
                    self._client = get_api_client(module=source)
            except (ConfigException, CoreException, IOError, ValueError, TypeError) as err:
                if isinstance(err, (Urllib3HTTPError, MaxRetryError)) or getattr(err, "reason", None):
                    raise ClusterError(explain(err, self.name, "API discovery", self.params.get("host")))
                raise ClusterError("cluster %s: cannot load connection settings: %s" % (self.name, to_native(err)))
            except Exception as err:  # pylint: disable=broad-except
                raise ClusterError(explain(err, self.name, "API discovery", self.params.get("host")))
        return self._client

    def resource(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._resources:
            what = "API %s %s" % (api_version, kind)
            try:
                self._resources[key] = self.client.resource(kind, api_version)
            except (ResourceNotFoundError, ResourceNotUniqueError):
                raise ClusterError(
                    "cluster %s: the API server does not serve %s (%s): the CustomResourceDefinition is "
                    "missing; install the product or operator that provides it first" % (self.name, kind, api_version),
                    details={"served": False})
            except ClusterError:
                raise
            except Exception as err:  # pylint: disable=broad-except
                raise ClusterError(explain(err, self.name, what, self.server))
        return self._resources[key]

    def _call(self, what, func, *args, **kwargs):
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            return func(*args, **kwargs)
        except Exception as err:  # pylint: disable=broad-except
            raise ClusterError(explain(err, self.name, what, self.server),
                               details={"status": getattr(err, "status", None)})

    @staticmethod
    def _to_dict(obj):
        if obj is None:
            return None
        if hasattr(obj, "to_dict"):
            return obj.to_dict()
        return obj

    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        what = object_label(kind, name, namespace)
        try:
            return self._to_dict(resource.get(name=name, namespace=namespace, _request_timeout=REQUEST_TIMEOUT))
        except Exception as err:  # pylint: disable=broad-except
            if getattr(err, "status", None) == 404:
                return None
            raise ClusterError(explain(err, self.name, what, self.server))

    def list(self, api_version, kind, namespace=None, label_selector=None):
        resource = self.resource(api_version, kind)
        what = "%s list%s" % (kind, " in namespace %s" % namespace if namespace else "")
        result = self._call(what, resource.get, namespace=namespace, label_selector=label_selector)
        return self._to_dict(result).get("items") or []

    def iterate(self, api_version, kind, namespace=None, label_selector=None, page_size=100, metadata_only=False):
        """The objects of a list, fetched page by page (limit/continue) so large kinds (scan reports) never
        arrive in one response. With metadata_only, the API server sends only each object's metadata
        (PartialObjectMetadataList): a Secret's data never leaves it."""
        resource = self.resource(api_version, kind)
        what = "%s list%s" % (kind, " in namespace %s" % namespace if namespace else "")
        kwargs = {"namespace": namespace, "label_selector": label_selector, "limit": page_size}
        if metadata_only:
            kwargs["header_params"] = {"Accept": METADATA_ONLY}
        token = None
        while True:
            page = self._to_dict(self._call(what, resource.get, _continue=token, **kwargs)) or {}
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def create(self, api_version, kind, body, namespace=None):
        resource = self.resource(api_version, kind)
        what = object_label(kind, body.get("metadata", {}).get("name"), namespace)
        return self._to_dict(self._call(what, resource.create, body=body, namespace=namespace))

    def create_subresource(self, api_version, kind, name, subresource, body, namespace=None):
        """POST to a subresource, for example a ServiceAccount's token (TokenRequest)."""
        resource = self.resource(api_version, kind)
        sub = (getattr(resource, "subresources", None) or {}).get(subresource)
        what = "%s of %s" % (subresource, object_label(kind, name, namespace))
        if sub is None:
            raise ClusterError("cluster %s: the API server does not serve %s" % (self.name, what))
        return self._to_dict(self._call(what, sub.create, body=body, name=name, namespace=namespace))

    def patch(self, api_version, kind, name, patch, namespace=None, content_type="application/merge-patch+json"):
        resource = self.resource(api_version, kind)
        what = object_label(kind, name, namespace)
        return self._to_dict(self._call(what, resource.patch, body=patch, name=name, namespace=namespace,
                                        content_type=content_type))

    def delete(self, api_version, kind, name, namespace=None):
        """Delete; True if something was deleted, False if it was already gone."""
        resource = self.resource(api_version, kind)
        what = object_label(kind, name, namespace)
        try:
            resource.delete(name=name, namespace=namespace, _request_timeout=REQUEST_TIMEOUT)
            return True
        except Exception as err:  # pylint: disable=broad-except
            if getattr(err, "status", None) == 404:
                return False
            raise ClusterError(explain(err, self.name, what, self.server))


def managed_labels(extra=None):
    labels = {MANAGED_BY_LABEL: MANAGED_BY}
    if extra:
        labels.update(extra)
    return labels


def is_managed(obj):
    return (obj or {}).get("metadata", {}).get("labels", {}).get(MANAGED_BY_LABEL) == MANAGED_BY
