"""Moved to spc/cli/client.py; kept only for the tests whose text the mutation fingerprints hash (docs/mutation.md)."""
from spc.cli.client import free_port

__all__ = ["free_port"]
