"""The loader modules of instant runs (see workbench/run/instant.py): package data, read as
text and built into a development runtime with componentize-py, never imported here."""
