"""Small file operations through Hadoop's FileSystem API, so a local folder, s3a:// or a Volume work alike."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession


@dataclass(frozen=True)
class FileInfo:
    name: str
    size_bytes: int
    is_dir: bool


class HadoopFiles:
    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()

    def _path(self, uri: str):
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        return path, path.getFileSystem(self._conf)

    def _raw(self, uri: str):
        """The path and, for a local folder, the file system without `.crc` sidecars: the manifest and LATEST are
        read and written by other tools (loaders, people), which a stale checksum file would make unreadable."""
        path, fs = self._path(uri)
        if self._jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem").isInstance(fs):
            fs = fs.getRawFileSystem()
        return path, fs

    def exists(self, uri: str) -> bool:
        path, fs = self._path(uri)
        return bool(fs.exists(path))

    def write_text(self, uri: str, text: str) -> None:
        path, fs = self._raw(uri)
        stream = fs.create(path, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def read_text(self, uri: str) -> str:
        path, fs = self._raw(uri)
        stream = fs.open(path)
        try:
            return self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    def list(self, uri: str) -> list[FileInfo]:
        path, fs = self._path(uri)
        if not fs.exists(path):
            return []
        return [
            FileInfo(status.getPath().getName(), int(status.getLen()), bool(status.isDirectory()))
            for status in fs.listStatus(path)
        ]

    def delete(self, uri: str, recursive: bool = False) -> None:
        path, fs = self._path(uri)
        fs.delete(path, recursive)
