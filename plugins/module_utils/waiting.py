# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded waiting with backoff, and JMESPath readiness expressions over API objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_JMESPATH = False

    class JMESPathError(Exception):  # type: ignore[no-redef]
        pass

FIRST_INTERVAL = 0.5


class WaitTimeout(Exception):
    """The deadline passed; `last` is the last value the probe returned."""

    def __init__(self, elapsed, last):
        super(WaitTimeout, self).__init__("timed out after %.0fs" % elapsed)
        self.elapsed = elapsed
        self.last = last


class WaitFailed(Exception):
    """The probe reported a state that will not become ready by waiting."""

    def __init__(self, message, last=None):
        super(WaitFailed, self).__init__(message)
        self.message = message
        self.last = last


def poll(probe, timeout, max_interval, clock=time.monotonic, sleep=time.sleep):
    """Call probe() until it returns (True, value); returns (value, elapsed seconds).

    probe() returns (done, value) or raises WaitFailed. The interval starts at half a
    second and doubles up to max_interval, so quick objects are seen quickly and slow
    ones are not hammered. Raises WaitTimeout carrying the last value at the deadline.
    """
    start = clock()
    deadline = start + max(0, timeout)
    interval = min(FIRST_INTERVAL, max_interval) if max_interval > 0 else FIRST_INTERVAL
    while True:
        done, value = probe()
        now = clock()
        if done:
            return value, now - start
        if now >= deadline:
            raise WaitTimeout(now - start, value)
        sleep(min(interval, max(0.0, deadline - now)))
        interval = min(interval * 2, max(max_interval, FIRST_INTERVAL))


def compile_expression(expression, option="condition"):
    """Compile a JMESPath expression; ValueError names the option and the parse error."""
    if not HAS_JMESPATH:
        raise ValueError("the jmespath Python library is required for %s" % option)
    try:
        return jmespath.compile(expression)
    except JMESPathError as err:
        raise ValueError("%s is not a valid JMESPath expression (%r): %s" % (option, expression, err))


def truthy(value):
    """JMESPath truthiness: false, null, empty string, list and object are false."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)) and len(value) == 0:
        return False
    return True


def evaluate(compiled, obj):
    return compiled.search(obj)
