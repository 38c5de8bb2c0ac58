"""evalsvc: pre/post course evaluation with anonymous pairing and paired statistics."""

__version__ = "0.1.0"
