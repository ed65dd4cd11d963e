"""Peakshop's cdktf stacks: one parameterized class per layer, named `<stage>-<role>-<layer>`."""
