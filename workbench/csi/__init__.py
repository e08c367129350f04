"""The Cognitive System Interface as the workbench serves it: the kernel's `/csi/v1` JSON in,
a model provider's answer out, and the record of every call."""
