"""The policy gate: checkov over the synthesized Terraform (and rendered charts) with one reviewed skip
file, and the PCI DSS / GDPR control matrix generated from a mapping file."""
