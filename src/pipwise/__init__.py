"""pipwise: a fast Python package installer whose every error is a diagnosis."""

__version__ = "0.1.0"
