"""AWS adapters behind the domain's ports. Clients are made lazily and honour AWS_ENDPOINT_URL."""

from __future__ import annotations

import boto3


class AwsAdapter:
    """Holds one boto3 client, created on first use (never at import time) unless one is given."""

    service: str

    def __init__(self, client=None):
        self._client = client

    @property
    def client(self):
        if self._client is None:
            self._client = boto3.client(self.service)
        return self._client
