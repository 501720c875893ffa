# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common main() of the ACS modules: the hub connection and Central authenticated (see product.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devsecops.multicluster.plugins.module_utils.central import Central
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import product_main


def acs_main(argument_spec, work, authenticate=True):
    """work(module, hub, central) -> (manager or None, result dict)."""
    product_main(argument_spec, "central", Central, work, authenticate=authenticate)
