"""Private files: everything Triage writes is readable by its owner only.

The database, its WAL and SHM files, backups, logs and exports are created
with mode 0600 and the folders Triage creates with mode 0700, so another
local account (a shared or managed laptop) cannot read them. All the
POSIX-only calls (umask, chmod, a lock probe, a pipe's buffer) are here; on
Windows the user's profile folders are already private to the user, and these
calls do nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_POSIX = os.name == "posix"


@contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created meanwhile are private (umask 077).

    The CLI and the app run inside this, so an export, a log or a file
    SQLite creates is private however it is opened.
    """
    if not _POSIX:
        yield
        return
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the owner only.

    A folder that already exists is left as it is: it may be the user's
    home or a shared folder chosen on purpose.
    """
    with private_umask():
        path.mkdir(parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing, else restrict it to 0600."""
    if path.exists():
        restrict(path)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, PRIVATE_FILE))
    return path


def restrict(path: Path) -> None:
    """Make an existing file readable by its owner only (a no-op if it is missing)."""
    if _POSIX and path.exists():
        os.chmod(path, PRIVATE_FILE)


# SQLite's unix VFS: every connection to a WAL database holds a shared lock on
# this byte of the "-shm" WAL index (the "DMS" slot) for as long as it is open.
_WAL_INDEX_DMS_BYTE = 128


def open_in_another_process(shm: Path) -> bool:
    """Whether another process holds open the WAL database whose index is ``shm``.

    Tries (without waiting) to lock the byte every open connection holds
    shared. Only another process can be seen: POSIX locks are per process,
    and closing this probe drops any lock this process holds on the file, so
    call it only where this process has the database closed. On Windows an
    open database cannot be replaced at all, so there is nothing to probe.
    """
    if not _POSIX or not shm.exists():
        return False
    import fcntl

    with open(shm, "rb+") as probe:
        try:
            fcntl.lockf(probe, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _WAL_INDEX_DMS_BYTE)
        except OSError:
            return True
        fcntl.lockf(probe, fcntl.LOCK_UN, 1, _WAL_INDEX_DMS_BYTE)
    return False


# Linux's fcntl code for a pipe's buffer size (Python's fcntl names it only
# from 3.10, and not on every build).
_F_SETPIPE_SZ = 1031


def widen_pipe(descriptor: int, size: int) -> None:
    """Give a pipe ``size`` bytes of buffer, or what the system allows (its
    limit, /proc/sys/fs/pipe-max-size, is 1 MB by default); left as it was
    where refused or where there is no such call (only Linux has one)."""
    if not _POSIX:
        return
    import fcntl

    try:
        fcntl.fcntl(descriptor, _F_SETPIPE_SZ, size)
    except OSError:
        pass
