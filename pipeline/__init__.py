"""Claim-stance classification over news articles from several outlets, with NLI evidence."""

__version__ = "0.1.0"
