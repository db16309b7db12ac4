# SPDX-License-Identifier: BSD-3-Clause
"""A FUSE filesystem (raw /dev/fuse protocol, no libfuse) with one empty
regular file 'f' whose WRITE requests are never answered: a write() into it
blocks until the connection is aborted (stop())."""
import ctypes, os, struct, threading

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_SETATTR, FUSE_OPEN = 1, 2, 3, 4, 14
FUSE_WRITE, FUSE_STATFS, FUSE_RELEASE, FUSE_FLUSH, FUSE_INIT = 16, 17, 18, 25, 26
FUSE_GETXATTR, FUSE_ACCESS, FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET = 22, 34, 36, 38, 42
ENOENT, ENOSYS = 2, 38


def attr(ino, mode, size=0):
    return struct.pack("<QQQQQQIIIIIIIIII", ino, size, 0, 0, 0, 0, 0, 0, 0, mode, 1, 0, 0, 0,
                       4096, 0)


class StallFs:
    def __init__(self, mnt):
        self.mnt = mnt
        self.fd = os.open("/dev/fuse", os.O_RDWR)
        libc = ctypes.CDLL(None, use_errno=True)
        opts = ("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % self.fd).encode()
        if libc.mount(b"stallfs", mnt.encode(), b"fuse", 0, opts) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        self.writes = 0
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def reply(self, unique, err=0, body=b""):
        try:
            os.write(self.fd, struct.pack("<IiQ", 16 + len(body), -err, unique) + body)
        except OSError:
            pass

    def loop(self):
        while True:
            try:
                req = os.read(self.fd, 1 << 20)
            except OSError:
                return
            ln, op, unique, node = struct.unpack_from("<IIQQ", req)
            arg = req[40:ln]
            if op == FUSE_INIT:
                major, minor, ra, flags = struct.unpack_from("<IIII", arg)
                self.reply(unique, 0, struct.pack("<IIIIHHIIHHI", 7, 31, ra, 0, 16, 12, 65536,
                                                  1, 0, 0, 0) + b"\0" * 28)
            elif op == FUSE_LOOKUP:
                if arg.rstrip(b"\0") == b"f":
                    self.reply(unique, 0, struct.pack("<QQQQII", 2, 0, 3600, 3600, 0, 0) +
                               attr(2, 0o100666))
                else:
                    self.reply(unique, ENOENT)
            elif op == FUSE_GETATTR:
                a = attr(1, 0o40777) if node == 1 else attr(2, 0o100666)
                self.reply(unique, 0, struct.pack("<QII", 3600, 0, 0) + a)
            elif op == FUSE_OPEN:
                self.reply(unique, 0, struct.pack("<QII", 1, 0, 0))
            elif op == FUSE_WRITE:
                self.writes += 1  # never answered: the writer waits
            elif op in (FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT):
                pass
            elif op in (FUSE_RELEASE, FUSE_FLUSH):
                self.reply(unique)
            else:
                self.reply(unique, ENOSYS)

    def stop(self):
        """Abort the connection (pending writes fail) and unmount."""
        os.close(self.fd)
        self.t.join(5)
        os.system("umount -l %s" % self.mnt)
