"""``python -m corridor``: the ``corridor`` command (for instance under ``python -X importtime``)."""

from corridor.cli.main import app

app(prog_name="corridor")
