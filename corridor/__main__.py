"""``python -m corridor`` runs the CLI."""

from corridor.cli import app

app(prog_name="corridor")
