"""Real local stand-ins for RDS (writer + GTID replica), ElastiCache (Redis) and SQS/S3 (moto server), run as
child processes so tests and `make up` exercise the same failure modes as production, without mocks."""

from apps.localdeps.stack import Endpoints, LocalDeps

__all__ = ["Endpoints", "LocalDeps"]
