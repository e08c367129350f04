"""Skill Workbench: write, build, run and publish Pharia Kernel skills."""

__version__ = "0.1.0"
