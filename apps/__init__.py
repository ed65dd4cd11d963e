"""Peakshop application services and the shared runtime they are built on."""
