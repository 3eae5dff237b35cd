"""Moved to spc/runtime/fleet.py; kept only for the tests whose text the mutation fingerprints hash (docs/mutation.md)."""
from spc.runtime.fleet import spec

__all__ = ["spec"]
