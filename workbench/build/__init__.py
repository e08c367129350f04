"""Source -> component: componentize-py as a subprocess, and its errors as diagnostics."""
