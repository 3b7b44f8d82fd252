"""The ``corridor`` command."""
