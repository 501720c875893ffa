"""Unit tests import the collection as ansible_collections.devsecops.multicluster."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, "build", "collections")
SELF = os.path.join(COLLECTIONS, "ansible_collections", "devsecops", "multicluster")
if not os.path.islink(SELF) and not os.path.isdir(SELF):
    os.makedirs(os.path.dirname(SELF), exist_ok=True)
    os.symlink(REPO, SELF)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
