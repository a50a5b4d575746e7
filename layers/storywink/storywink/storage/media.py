"""The media bucket: presigned uploads and downloads, reads, writes and deletes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

UPLOAD_TAG = "stage=upload"


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    headers: dict[str, str]


class MediaStore:
    def __init__(self, bucket: str, s3: Any) -> None:
        self.bucket = bucket
        self.s3 = s3

    def presign_upload(self, key: str, content_type: str, size: int, ttl: int) -> PresignedUpload:
        # Content-Type and Content-Length are signed: S3 refuses a PUT of another type or size.
        # The stage tag lets the bucket's lifecycle rule expire uploads that are never confirmed.
        url = self.s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size,
                "Tagging": UPLOAD_TAG,
            },
            ExpiresIn=ttl,
        )
        headers = {"Content-Type": content_type, "Content-Length": str(size), "x-amz-tagging": UPLOAD_TAG}
        return PresignedUpload(url=url, headers=headers)

    def presign_download(self, key: str, ttl: int, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)

    def size_of(self, key: str) -> int | None:
        """The object's size, or None when it does not exist."""
        try:
            return int(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            if chunk:
                self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )

    def delete_prefix(self, prefix: str) -> int:
        paginator = self.s3.get_paginator("list_objects_v2")
        keys = [
            obj["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
        ]
        self.delete(keys)
        return len(keys)
