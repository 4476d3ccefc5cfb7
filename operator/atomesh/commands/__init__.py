"""The `atomesh` subcommands: each module is one command (argument parser + `run`), composing the
layers below; the only place besides `cli.py` allowed to import everything."""
