"""Test environment: dummy AWS credentials and Powertools settings, set before moto is imported.

moto must be imported before any boto3 client is created (notes/local-aws.md §5), and
botocore 1.44 must not derive account-id endpoints for DynamoDB Streams.
"""

import os
from pathlib import Path

import pytest

for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "netzone-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "NetzoneTests",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

import moto  # noqa: E402,F401 - must come before any boto3 client

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(
            f"the shared corpus is not at {CORPUS}; clone the project beside ../shared to run this test"
        )
    return CORPUS
