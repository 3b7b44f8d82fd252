"""Road networks as typed arrays, their importers and pure transforms."""

from corridor.network.model import Network

__all__ = ["Network"]
