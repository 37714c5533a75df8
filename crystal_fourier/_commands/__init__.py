"""Subcommands of ``crystal-fourier``; each module has ``add_parser(subparsers)``."""
