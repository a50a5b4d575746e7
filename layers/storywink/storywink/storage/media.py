"""The media bucket: presigned uploads and downloads, stable image URLs, reads, writes and deletes."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from botocore.exceptions import ClientError

from storywink.storage.urls import MediaUrls, S3Urls, UrlWindow

UPLOAD_TAG = "stage=upload"
# Objects whose key is never written twice (photos and thumbnails are named by their asset id): a browser
# and CloudFront keep them as long as their URL lasts, without asking again.
IMMUTABLE = "max-age=31536000, immutable"
# Objects rewritten in place (an illustration drawn again keeps its key): kept, but revalidated (ETag) on use.
REVALIDATE = "no-cache"
DEFAULT_URL_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    headers: dict[str, str]


class MediaStore:
    def __init__(
        self,
        bucket: str,
        s3: Any,
        urls: MediaUrls | None = None,
        window_seconds: int = DEFAULT_URL_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket = bucket
        self.s3 = s3
        # CloudFront signed URLs in the cloud; S3 presigned GETs signed as of the window's start otherwise.
        self.urls = urls if urls is not None else S3Urls(s3, bucket)
        self.window_seconds = window_seconds
        self.clock = clock

    def url_window(self) -> UrlWindow:
        """The current window: every view URL handed out now is the same until its end (README: Media and the CDN)."""
        return UrlWindow.at(self.clock(), self.window_seconds)

    def cache_seconds(self) -> int:
        """How long a response built now with view URLs may be cached (``Cache-Control: private, max-age=``):
        until the current window ends; every URL in it stays valid a whole window longer."""
        now = self.clock()
        return UrlWindow.at(now, self.window_seconds).cache_seconds(now)

    def view_url(self, key: str, window: UrlWindow | None = None) -> str:
        """The URL a browser shows ``key`` by: byte-identical all window long, valid a window after its end."""
        return self.urls.url(key, window or self.url_window())

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

    def write(self, key: str, data: bytes, content_type: str, cache_control: str | None = None) -> None:
        """``cache_control`` is stored with the object; S3 (and CloudFront from it) answer every GET with it."""
        extra = {"CacheControl": cache_control} if cache_control else {}
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            if chunk:
                self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )

    def delete_prefix(self, prefix: str) -> int:
        """Every object under ``prefix``, a listed page (at most 1000 keys, one DeleteObjects) at a time: no
        more than a page of keys is held however many there are."""
        paginator = self.s3.get_paginator("list_objects_v2")
        deleted = 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [obj["Key"] for obj in page.get("Contents", [])]
            self.delete(keys)
            deleted += len(keys)
        return deleted

    def list_page(self, prefix: str, start_after: str, max_keys: int) -> tuple[list[StoredObject], bool]:
        """One listed page of the objects under ``prefix`` after the key ``start_after``, in key order, and
        whether more follow."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": max_keys}
        if start_after:
            params["StartAfter"] = start_after
        page = self.s3.list_objects_v2(**params)
        found = [StoredObject(obj["Key"], obj["LastModified"]) for obj in page.get("Contents", [])]
        return found, bool(page.get("IsTruncated"))

    def chunks(self, key: str, size: int = 1024 * 1024) -> Iterator[bytes] | None:
        """The object's bytes in chunks of ``size`` as they arrive (never all at once), or None when it is missing."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return body.iter_chunks(size)

    def upload_stream(self, key: str, content_type: str, part_bytes: int) -> MultipartWriter:
        """A file-like writer that sends what is written to ``key`` as a multipart upload, one part at a time."""
        return MultipartWriter(self.s3, self.bucket, key, content_type, part_bytes)


class MultipartWriter:
    """Write-only, not seekable (zipfile then writes data descriptors): holds at most one part in memory.
    ``close()`` completes the upload; ``abort()`` (or an exception inside ``with``) throws the parts away."""

    def __init__(self, s3: Any, bucket: str, key: str, content_type: str, part_bytes: int) -> None:
        self._s3, self._bucket, self._key, self._part_bytes = s3, bucket, key, part_bytes
        self._upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._position = 0
        self.size = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._position += len(data)
        while len(self._buffer) >= self._part_bytes:
            self._send(bytes(self._buffer[: self._part_bytes]))
            del self._buffer[: self._part_bytes]
        return len(data)

    def tell(self) -> int:
        return self._position

    def seek(self, *_: Any) -> int:
        raise io.UnsupportedOperation("a multipart upload is written front to back")

    def flush(self) -> None:
        """Parts go when they are full; the last, shorter one on close."""

    def _send(self, data: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._s3.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data)
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        if self._upload_id is None:
            return
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )
        self._upload_id = None
        self.size = self._position

    def abort(self) -> None:
        if self._upload_id is not None:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
            self._upload_id = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
