"""Accounts service: sign-up/sign-in, addresses, consent records and GDPR export/erasure."""
