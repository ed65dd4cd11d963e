"""Delivery pipeline helpers: the CodeBuild buildspecs (ci/buildspecs/) and what they call."""
