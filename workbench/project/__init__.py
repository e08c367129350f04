"""The skill project on disk: its model (`workbench.toml`), its WIT, and new projects from
the template."""
