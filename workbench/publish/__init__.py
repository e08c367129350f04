"""Component -> registry: the OCI artifact a Pharia Kernel pulls, the registry client, and the
steps of publishing and logging in."""
