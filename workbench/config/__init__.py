"""The user's config file, and the TOML helpers every settings file is read with."""
