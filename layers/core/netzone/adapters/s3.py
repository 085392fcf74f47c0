"""Feed files in S3, read as streams (never whole files in memory)."""

from __future__ import annotations

from typing import IO, BinaryIO

from botocore.exceptions import ClientError

from netzone.adapters import AwsAdapter
from netzone.jobs import FeedError, FeedRef


class FeedObjects(AwsAdapter):
    service = "s3"

    def open(self, feed: FeedRef, start: int = 0) -> BinaryIO:
        """The body of exactly the object version the event announced, from byte `start`."""
        request = {"Bucket": feed.bucket, "Key": feed.key}
        if start:
            request["Range"] = f"bytes={start}-"
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


class ReportObjects(AwsAdapter):
    """Feed reports and rejects files, beside the feeds in the feed bucket (outside feeds/,
    so writing them never triggers an ingest)."""

    service = "s3"

    def __init__(self, bucket: str, client=None):
        super().__init__(client)
        self.bucket = bucket

    def put(self, key: str, body: IO[bytes], content_type: str) -> str:
        # upload_fileobj streams (multipart above its threshold): a big rejects file is never
        # held in memory whole.
        self.client.upload_fileobj(body, self.bucket, key, ExtraArgs={"ContentType": content_type})
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
