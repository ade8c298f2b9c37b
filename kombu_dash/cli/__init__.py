"""The commands of ``python -m kombu_dash``: one module or package per command."""
