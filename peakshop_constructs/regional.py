"""Placing a construct's resources in another region: cdktf constructs take no provider themselves, so
every Terraform element under the construct gets the aliased provider."""

from __future__ import annotations

from cdktf import TerraformDataSource, TerraformResource
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct


def use_provider(construct: Construct, provider: AwsProvider | None) -> None:
    if provider is None:
        return
    for child in construct.node.find_all():
        if isinstance(child, TerraformResource | TerraformDataSource):
            child.provider = provider
