"""Stored documents: files kept by their SHA-256, written once, never changed or removed.

A file is streamed to a temporary name beside the store, hashed as it goes, and moved into
place (``ab/cd/<sha256>``) in one rename, so a reader never sees half a file and a second
upload of the same bytes stores nothing new. What refers to a file (an incident's
document, say) keeps its digest; the journal keeps it too, so an altered or missing file is
found by `verify` (``sitroom journal verify --documents``).

Which files are taken is decided by their name's extension, never by the type the sender
claims; the type served is the one that extension maps to here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .errors import InvalidInput

# Extension -> the type served. Images are shown in the page; everything else is offered
# as a download. No SVG or HTML: a file that can carry a script is not taken.
ACCEPTED: dict[str, str] = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
    "gif": "image/gif",
    "txt": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "mp4": "video/mp4", "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg",
    "zip": "application/zip",
}
SHOWN_INLINE = ("image/jpeg", "image/png", "image/webp", "image/gif")
# The same list for a file input's `accept`, so the picker offers what is taken.
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in sorted(ACCEPTED))
CHUNK = 1 << 20
# What refers to stored files registers a check here (an app's ready()): each returns one
# line per file that is missing or altered; `sitroom journal verify --documents` runs them.
CHECKS: list[Callable[[], list[str]]] = []


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    content_type: str


def root() -> Path:
    return Path(settings.DOCUMENTS_DIR)


def _is_digest(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def path_of(sha256: str, store: Path | None = None) -> Path:
    """Where a file is kept in `store` (this deployment's by default): ``ab/cd/<sha256>``."""
    if not _is_digest(sha256):
        raise ValueError(f"not a SHA-256 digest: {sha256!r}")
    return (store or root()) / sha256[:2] / sha256[2:4] / sha256


def stored(store: Path | None = None) -> Iterator[str]:
    """The digest of every file kept in `store`, in order (not the half-written uploads,
    which sit beside the folders under another name)."""
    top = store or root()
    if top.is_dir():
        for path in sorted(top.glob("??/??/*")):
            if _is_digest(path.name) and path == path_of(path.name, top):
                yield path.name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_type_of(name: str, field: str = "file") -> str:
    """The type served for a file of this name; a name whose extension is not taken is
    refused, naming the field and the extensions that are."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ACCEPTED:
        raise InvalidInput({field: [
            _("files of type %(ext)s are not accepted; accepted: %(accepted)s")
            % {"ext": f".{ext}" if ext else _("(no extension)"),
               "accepted": ", ".join(sorted(ACCEPTED))}]})
    return ACCEPTED[ext]


def max_bytes() -> int:
    return int(settings.DOCUMENT_MAX_MB * 1024 * 1024)


def too_large_text() -> str:
    """The limit as the reader writes a number: "50", "0,5" in Russian."""
    mb = settings.DOCUMENT_MAX_MB
    return _("the file is larger than %(mb)s MB") % {
        "mb": number_format(int(mb) if mb == int(mb) else mb, use_l10n=True)}


def _too_large(field: str) -> InvalidInput:
    return InvalidInput({field: [too_large_text()]})


def input_attrs() -> dict[str, str]:
    """A file input's attributes: the picker offers what is taken, and a file over the
    limit is named as soon as it is chosen (web/files.js), in the reader's language."""
    return {"accept": ACCEPT_ATTRIBUTE, "data-max-bytes": str(max_bytes()),
            "data-too-large": too_large_text()}


def check_upload(name: str, size: int, field: str = "file") -> str:
    """Before the bytes are read: the type served for this name, or InvalidInput naming
    the field when the type is not taken or the file is over the limit. (`store` checks
    the bytes themselves again.)"""
    content_type = content_type_of(name, field)
    if size > max_bytes():
        raise _too_large(field)
    return content_type


def store(chunks: Iterable[bytes], name: str, field: str = "file") -> Stored:
    """Keep the bytes; refuse an empty file, one over the size limit or of a type not
    taken, with nothing kept."""
    content_type = content_type_of(name, field)
    limit = max_bytes()
    digest, size = hashlib.sha256(), 0
    root().mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root(), prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise _too_large(field)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InvalidInput({field: [_("the file is empty")]})
        target = path_of(digest.hexdigest())
        if target.exists():
            os.unlink(tmp)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return Stored(digest.hexdigest(), size, content_type)


def read(sha256: str) -> Iterator[bytes]:
    with open(path_of(sha256), "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def problem(sha256: str, size: int) -> str | None:
    """What is wrong with a stored file (missing, another size, other bytes), or None."""
    try:
        stored_size = path_of(sha256).stat().st_size
    except FileNotFoundError:
        return "missing"
    if stored_size != size:
        return f"size {stored_size}, expected {size}"
    return None if file_sha256(path_of(sha256)) == sha256 else "content changed"
