"""Feed files in S3, read as streams (never whole files in memory)."""

from __future__ import annotations

from typing import BinaryIO

from botocore.exceptions import ClientError

from netzone.adapters import AwsAdapter
from netzone.feeds import FeedError, FeedRef


class FeedObjects(AwsAdapter):
    service = "s3"

    def open(self, feed: FeedRef) -> BinaryIO:
        """The body of exactly the object version the event announced."""
        request = {"Bucket": feed.bucket, "Key": feed.key}
        if feed.version_id:
            request["VersionId"] = feed.version_id
        else:
            request["IfMatch"] = feed.etag
        try:
            return self.client.get_object(**request)["Body"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "NoSuchKey", "NoSuchVersion", "404", "412"):
                raise FeedError(
                    f"s3://{feed.bucket}/{feed.key} changed or was removed before it could be read ({code}); "
                    "a newer version is ingested as its own job"
                ) from error
            raise
