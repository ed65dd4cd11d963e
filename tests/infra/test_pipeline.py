"""The delivery pipeline (stack shared-pipeline): stage order with the manual approval before prod, deploys
that run `cdktf deploy '<stage>-*'` from buildspecs in this repository, encrypted artifacts and one
least-privilege role per CodeBuild project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from stacks.config import STAGE_NAMES
from stacks.pipeline import STACK_NAME, deployer_role_name
from stacks.workloads import WORKLOADS
from tests.infra.synthesized import Platform, data_sources, ref_name, resources

ROOT = Path(__file__).resolve().parents[2]


def pipeline_doc(platform: Platform) -> dict:
    return platform.docs[STACK_NAME]


def stages(platform: Platform) -> list[dict]:
    (pipeline,) = resources(pipeline_doc(platform), "aws_codepipeline").values()
    return pipeline["stage"]


def projects(platform: Platform) -> dict[str, dict]:
    return {p["name"]: p for p in resources(pipeline_doc(platform), "aws_codebuild_project").values()}


def test_the_pipeline_is_v2_and_orders_verify_images_dev_staging_approval_prod(platform: Platform) -> None:
    (pipeline,) = resources(pipeline_doc(platform), "aws_codepipeline").values()
    assert pipeline["pipeline_type"] == "V2"
    names = [s["name"] for s in stages(platform)]
    assert names == ["Source", "Verify", "Images", "DeployDev", "DeployStaging", "ApproveProd", "DeployProd"]
    approval = stages(platform)[names.index("ApproveProd")]["action"][0]
    assert (approval["category"], approval["provider"]) == ("Approval", "Manual")
    assert names.index("ApproveProd") == names.index("DeployProd") - 1


def test_source_is_the_codestar_connection_on_the_configured_branch(platform: Platform) -> None:
    source = stages(platform)[0]["action"][0]
    assert source["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["ConnectionArn"].startswith("${aws_codestarconnections_connection.")
    config = platform.config.pipeline
    assert config is not None
    assert source["configuration"]["FullRepositoryId"] == config.repository
    assert source["configuration"]["BranchName"] == config.branch


def test_each_deploy_runs_cdktf_deploy_for_its_stage_only(platform: Platform) -> None:
    deploy = yaml.safe_load((ROOT / "ci/buildspecs/deploy.yml").read_text())
    commands = " ".join(deploy["phases"]["build"]["commands"])
    assert 'deploy "${STAGE}-*"' in commands and "cdktf-cli@" in commands
    by_name = projects(platform)
    for stage in STAGE_NAMES:
        project = by_name[f"peakshop-deploy-{stage}"]
        assert project["source"]["buildspec"] == "ci/buildspecs/deploy.yml"
        env = {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}
        assert env["STAGE"] == stage
        assert env["DEPLOYER_ROLE_ARN"].endswith(f":role/{deployer_role_name(stage)}")


def test_every_buildspec_is_a_file_in_the_repository(platform: Platform) -> None:
    for name, project in projects(platform).items():
        path = ROOT / project["source"]["buildspec"]
        assert path.is_file(), name
        spec = yaml.safe_load(path.read_text())
        assert spec["version"] == 0.2 and spec["phases"], name
    verify = yaml.safe_load((ROOT / "ci/buildspecs/verify.yml").read_text())
    assert verify["phases"]["build"]["commands"] == ["bash .ci/run"]  # = make test: lint, synth, scan, pytest
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_the_image_build_covers_every_workload_and_tags_with_the_commit(platform: Platform) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "ci.images"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert [line.split()[0] for line in listed if line] == [w.name for w in WORKLOADS]
    images = yaml.safe_load((ROOT / "ci/buildspecs/images.yml").read_text())
    assert 'IMAGE_TAG="$COMMIT_SHA"' in " ".join(images["phases"]["pre_build"]["commands"])
    image_stage = next(s for s in stages(platform) if s["name"] == "Images")["action"][0]
    variables = json.loads(image_stage["configuration"]["EnvironmentVariables"])
    assert {"name": "COMMIT_SHA", "value": "#{SourceVariables.CommitId}", "type": "PLAINTEXT"} in variables


def test_artifacts_and_builds_are_encrypted_with_the_pipeline_key(platform: Platform) -> None:
    doc = pipeline_doc(platform)
    (pipeline,) = resources(doc, "aws_codepipeline").values()
    (store,) = pipeline["artifact_store"]
    assert store["encryption_key"]["type"] == "KMS" and store["encryption_key"]["id"].startswith("${aws_kms_key.")
    assert all(p["encryption_key"] == store["encryption_key"]["id"] for p in projects(platform).values())


def test_codebuild_roles_are_least_privilege(platform: Platform) -> None:
    doc = pipeline_doc(platform)
    documents = data_sources(doc, "aws_iam_policy_document")
    roles = resources(doc, "aws_iam_role")
    policies = {
        ref_name(p["role"]): documents[ref_name(p["policy"])] for p in resources(doc, "aws_iam_role_policy").values()
    }
    for project in projects(platform).values():
        role = ref_name(project["service_role"])
        statements = policies[role]["statement"]
        for statement in statements:
            if statement["resources"] == ["*"]:
                assert statement["actions"] == ["ecr:GetAuthorizationToken"], (project["name"], statement)
        assumed = [r for s in statements if "sts:AssumeRole" in s["actions"] for r in s["resources"]]
        if project["name"].startswith("peakshop-deploy-"):
            stage = project["name"].removeprefix("peakshop-deploy-")
            assert len(assumed) == 1 and assumed[0].endswith(f":role/{deployer_role_name(stage)}")
        else:
            assert not assumed
        pushes = [s for s in statements if "ecr:PutImage" in s["actions"]]
        assert bool(pushes) == (project["name"] == "peakshop-images")
        assert roles[role]["name"] == project["name"].replace("peakshop-", "peakshop-pipeline-")


def test_the_pipeline_stack_is_outside_the_layer_naming(platform: Platform) -> None:
    assert STACK_NAME == "shared-pipeline" and STACK_NAME in platform.docs
    backend = pipeline_doc(platform)["terraform"]["backend"]["s3"]
    assert backend["key"].endswith(f"/{STACK_NAME}/terraform.tfstate") and backend["use_lockfile"] is True
