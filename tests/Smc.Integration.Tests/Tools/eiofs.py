#!/usr/bin/python3
"""A read-only FUSE file system that serves one file and fails reads of a byte range with EIO.

Used by the integration tests to give the agent an unreadable source region, the way a failing disk does.
Usage: eiofs.py SOURCE MOUNTPOINT BAD_START BAD_END   (runs in the foreground until unmounted)
"""
import errno
import os
import stat
import sys

from fusepy import FUSE, FuseOSError, Operations


class EioFs(Operations):
    def __init__(self, source, bad_start, bad_end):
        self.source, self.bad_start, self.bad_end = source, bad_start, bad_end
        self.name = "/" + os.path.basename(source)

    def getattr(self, path, fh=None):
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        if path != self.name:
            raise FuseOSError(errno.ENOENT)
        return dict(st_mode=stat.S_IFREG | 0o444, st_nlink=1, st_size=os.path.getsize(self.source))

    def readdir(self, path, fh):
        return [".", "..", self.name[1:]]

    def read(self, path, size, offset, fh):
        if offset < self.bad_end and offset + size > self.bad_start:
            raise FuseOSError(errno.EIO)
        with open(self.source, "rb") as f:
            f.seek(offset)
            return f.read(size)


if __name__ == "__main__":
    source, mountpoint, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    FUSE(EioFs(source, start, end), mountpoint, foreground=True, ro=True, direct_io=True)
