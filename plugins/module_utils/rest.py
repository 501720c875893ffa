# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one small base of the collection's product REST clients (Central, Quay, Harbor).

* TLS is verified by default, against a CA given as PEM text (typically read from the cluster
  that runs the product) or else the system trust store; verification is off only when the
  caller says so.
* 5xx answers, timeouts and refused connections are retried a bounded number of times with
  exponential backoff; 4xx answers are not.
* Every failure is a `RestError` whose message names the product, the endpoint, the method, the
  path and the status with the product's own error message - never a request body, a header or
  a credential.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import Request

RETRY_STATUSES = (500, 502, 503, 504)


class RestError(Exception):
    """A failed call; `status` is the HTTP status (None when no answer came)."""

    def __init__(self, message, status=None, body=None):
        super(RestError, self).__init__(message)
        self.message = message
        self.status = status
        self.body = body or {}


def normalize_endpoint(endpoint, default_port=443):
    """'host', 'host:port' or 'https://host[:port]' -> 'https://host:port' (no trailing slash)."""
    text = (endpoint or "").strip().rstrip("/")
    if not text:
        raise ValueError("no endpoint given")
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme != "https":
            raise ValueError("endpoint %s: only https is supported" % endpoint)
    else:
        rest = text
    rest = rest.split("/", 1)[0]
    host, _sep, port = rest.partition(":")
    if not host:
        raise ValueError("endpoint %s: no host name" % endpoint)
    if port and not port.isdigit():
        raise ValueError("endpoint %s: port %r is not a number" % (endpoint, port))
    return "https://%s:%s" % (host, port or default_port)


def _ssl_context(ca_pem, validate_certs):
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cadata=to_text(ca_pem)) if ca_pem else ssl.create_default_context()
    except (ssl.SSLError, ValueError) as err:
        raise RestError("the CA given is not a valid PEM certificate: %s" % to_native(err))


def _error_message(body, raw):
    if isinstance(body, dict):
        for key in ("message", "error", "error_message", "detail"):
            if body.get(key):
                return to_text(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return to_text(errors[0].get("message") or errors[0])
    return to_text(raw[:300]) if raw else ""


class RestClient(object):
    """JSON over HTTPS to one product endpoint, with bounded retries."""

    def __init__(self, product, endpoint, ca_pem=None, validate_certs=True, headers=None, timeout=30,
                 retries=3, backoff=1.0, sleep=time.sleep):
        self.product = product
        self.endpoint = normalize_endpoint(endpoint)
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.sleep = sleep
        self._context = _ssl_context(ca_pem, validate_certs)
        self.validate_certs = validate_certs

    def where(self, method, path):
        return "%s %s: %s %s" % (self.product, self.endpoint, method, path.split("?", 1)[0])

    def _open(self, method, url, data, headers):
        request = Request(headers=headers, timeout=self.timeout, validate_certs=self.validate_certs,
                          follow_redirects="none", use_netrc=False, context=self._context)
        return request.open(method, url, data=data)

    def request(self, method, path, body=None, query=None, headers=None, ok=(200, 201, 204)):
        """Returns (status, parsed JSON or {}). Raises RestError for other statuses."""
        url = self.endpoint + path
        if query:
            url += "?" + urlencode(query)
        all_headers = dict(self.headers, Accept="application/json")
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        data = json.dumps(body) if body is not None else None
        where = self.where(method, path)
        attempt = 0
        while True:
            attempt += 1
            status, raw, cause = None, "", None
            try:
                response = self._open(method, url, data, all_headers)
                status = response.getcode()
                raw = to_text(response.read())
            except HTTPError as err:
                status = err.code
                try:
                    raw = to_text(err.read())
                except Exception:  # noqa: BLE001 - a broken error body must not hide the status
                    raw = ""
            except ssl.SSLError as err:
                raise RestError("%s: TLS verification failed (%s); is the CA right for this endpoint?"
                                % (where, to_native(getattr(err, "reason", None) or err)))
            except URLError as err:
                reason = err.reason
                if isinstance(reason, ssl.SSLError):
                    raise RestError("%s: TLS verification failed (%s); is the CA right for this endpoint?"
                                    % (where, to_native(getattr(reason, "reason", None) or reason)))
                cause = "unreachable (%s)" % to_native(reason)
            except (socket.timeout, TimeoutError) as err:
                cause = "timed out after %ss (%s)" % (self.timeout, to_native(err) or "no answer")
            except (OSError, ValueError) as err:
                cause = "unreachable (%s)" % to_native(err)
            if cause is None:
                try:
                    parsed = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    parsed = {}
                    if status in ok:
                        raise RestError("%s: HTTP %s with a body that is not JSON" % (where, status), status)
                if status in ok:
                    return status, parsed
                if status not in RETRY_STATUSES or attempt > self.retries:
                    message = _error_message(parsed, raw)
                    raise RestError("%s: HTTP %s%s" % (where, status, (": " + message) if message else ""),
                                    status, parsed)
                cause = "HTTP %s" % status
            elif attempt > self.retries:
                raise RestError("%s: %s%s" % (where, cause, " after %d attempts" % attempt if attempt > 1 else ""))
            self.sleep(self.backoff * (2 ** (attempt - 1)))
