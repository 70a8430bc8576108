"""The landing folders users drop exports into, and the content-hash store that keeps what they dropped.

`LandingStore` is shared by the ERP exports and the INMET yearly ZIPs (and any file source like them):

* each landing file is hashed (sha256 of its bytes) while it is copied into the store; a hash already
  registered is skipped, whatever the file is called now, so a folder can keep its old files;
* an accepted file is kept byte for byte in `<store>/files/<hash>/<name>` and registered in
  `<store>/manifest.json` (after each file, so a crash loses at most one file's work);
* a file that cannot be read at all is moved aside (never deleted) into `rejected/` next to it, with a
  `<name>.reason.txt` saying why, and registered as rejected. When the landing folder is read-only the
  file stays where it is, the rejection says so and what to do, and the next run does not read it again;
* a loaded file can be withdrawn (kept, but no longer used) and restored.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from nova_assets.lib.lake import atomic_file

REJECTED_DIR = "rejected"
REASON_SUFFIX = ".reason.txt"
MANIFEST = "manifest.json"
MIN_HASH_PREFIX = 8  # characters of a content hash that name a file on the command line
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


class LandingError(RuntimeError):
    """A landing folder or store cannot be used as asked; the message says what to do."""


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def file_content_hash(path: Path) -> str:
    """sha256 of the file's bytes, so a loader can skip a file it has already ingested."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(folder: Path) -> list[Path]:
    """Every file under `folder` (sub-folders too) except what was moved aside and hidden files, sorted.

    Raises LandingError when the folder exists but cannot be listed."""
    if not folder.is_dir():
        return []
    try:
        return sorted(
            path
            for path in folder.rglob("*")
            if path.is_file()
            and REJECTED_DIR not in path.relative_to(folder).parts[:-1]
            and not path.name.startswith(".")
        )
    except PermissionError as exc:
        raise LandingError(
            f"cannot list the landing folder {folder} ({exc.strerror}: {exc.filename}): give this user read and "
            "execute permission on it"
        ) from exc


def move_aside(path: Path, reason: str, landing_root: Path) -> Path:
    """Move `path` into `<landing_root>/rejected/` with a reason file; return the new path.

    A name already taken there gets a UTC time stamp, so an earlier rejected copy is never overwritten.
    """
    target_dir = landing_root / REJECTED_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    reason_file = target.with_name(target.name + REASON_SUFFIX)
    reason_file.write_text(
        f"file: {target}\ndropped as: {path}\nrejected at: {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n"
        f"reason: {reason}\n"
        "Fix the file and drop it in the landing folder again; it will be read as a new file.\n",
        encoding="utf-8",
    )
    return target


def write_atomic(path: Path, data: bytes) -> Path:
    """Write through a temporary name and rename, so a crash never leaves half a file under the real name."""
    with atomic_file(path) as partial:
        partial.write_bytes(data)
    return path


class Entry(Protocol):
    """What the store needs of a registered file (a frozen dataclass of the source's own fields)."""

    content_hash: str
    file_name: str
    withdrawn_at: str | None


E = TypeVar("E", bound=Entry)


@dataclass(frozen=True)
class RejectedFile:
    """A landing file that could not be loaded at all, and where it went."""

    file_name: str
    table: str  # what it was meant to feed ("" when the source has one table)
    reason: str
    rejected_at: str
    moved_to: str  # "" when it could not be moved (a read-only landing folder): it stays where it was
    content_hash: str

    def message(self, kind: str) -> str:
        where = f"moved to {self.moved_to}" if self.moved_to else "left in the landing folder"
        return f"{kind} {self.file_name} rejected: {self.reason} ({where})"


@dataclass(frozen=True)
class Refused:
    """Why a new file cannot be loaded at all (and the table it was meant for, if the source has several)."""

    reason: str
    table: str = ""


@dataclass(frozen=True)
class NewFile:
    """A landing file the store has not seen, copied into its staging area."""

    original: Path
    staged: Path
    content_hash: str
    size_bytes: int


@dataclass
class LandingReport(Generic[E]):
    """What one pass over a landing folder did."""

    loaded: list[E] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name (same content as <first name>)", or withdrawn...
    rejected: list[RejectedFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # names this source does not read
    unreadable: list[str] = field(default_factory=list)  # could not be read now (permissions): tried again next run


@dataclass
class _Manifest(Generic[E]):
    files: list[E] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)


class LandingStore(Generic[E]):
    """The accepted files of one source under `root`, registered by content hash (see the module doc)."""

    def __init__(self, root: Path, entry_type: type[E]) -> None:
        self.root = root
        self.entry_type = entry_type

    def kept(self, entry: Entry) -> Path:
        """Where the store keeps the bytes of an accepted file."""
        return self.root / "files" / entry.content_hash / entry.file_name

    def entries(self) -> list[E]:
        """Registered files in load order, withdrawn ones included."""
        return self._read().files

    def rejected(self) -> list[RejectedFile]:
        return self._read().rejected

    def ingest(
        self,
        landing: Path,
        wants: Callable[[Path], bool],
        accept: Callable[[list[NewFile]], Iterable[E | Refused]],
    ) -> LandingReport[E]:
        """Register every new file of `landing` that `wants` takes: `accept` turns the new files into
        entries, or refuses them (yielded in order, as each is done)."""
        report: LandingReport[E] = LandingReport()
        with self._locked():
            manifest = self._read()
            known = self._known(manifest)
            new: list[NewFile] = []
            for path in landing_files(landing):
                if not wants(path):
                    report.ignored.append(path.name)
                    continue
                try:
                    staged = self._stage(path)
                except OSError as exc:
                    report.unreadable.append(f"{path}: cannot be read ({exc.strerror}); check its permissions")
                    continue
                if staged.content_hash in known:
                    staged.staged.unlink()
                    report.skipped.append(f"{path.name} ({known[staged.content_hash]})")
                    continue
                known[staged.content_hash] = f"same content as {path.name}"
                new.append(staged)
            for item, outcome in zip(new, accept(new), strict=True):
                if isinstance(outcome, Refused):
                    item.staged.unlink(missing_ok=True)
                    rejection = self._reject(item, outcome, landing)
                    report.rejected.append(rejection)
                    manifest.rejected.append(rejection)
                else:
                    kept = self.kept(outcome)
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    item.staged.replace(kept)
                    report.loaded.append(outcome)
                    manifest.files.append(outcome)
                self._write(manifest)
        return report

    def known(self) -> dict[str, str]:
        """Content hash -> why a landing file with it would be skipped: registered (withdrawn too), or
        rejected while left in place. What `ingest` would not read again."""
        return self._known(self._read())

    @staticmethod
    def _known(manifest: _Manifest[E]) -> dict[str, str]:
        known: dict[str, str] = {}
        for entry in manifest.files:
            known[entry.content_hash] = (
                f"withdrawn on {entry.withdrawn_at}" if entry.withdrawn_at else f"same content as {entry.file_name}"
            )
        for rejection in manifest.rejected:
            if not rejection.moved_to:
                known.setdefault(rejection.content_hash, f"rejected before: {rejection.reason}")
        return known

    def update(self, entries: Iterable[E]) -> None:
        """Replace registered entries by content hash (after a re-parse)."""
        with self._locked():
            manifest = self._read()
            by_hash = {entry.content_hash: entry for entry in entries}
            manifest.files = [by_hash.get(entry.content_hash, entry) for entry in manifest.files]
            self._write(manifest)

    def find(self, key: str) -> E:
        """The registered file named `key`, or whose content hash starts with `key`."""
        entries = self.entries()
        matches = [e for e in entries if e.file_name == key]
        if not matches and len(key) >= MIN_HASH_PREFIX:
            matches = [e for e in entries if e.content_hash.startswith(key.lower())]
        if not matches:
            raise LandingError(f"no loaded file is named {key!r} or has a content hash starting with it")
        if len(matches) > 1:
            listed = "; ".join(f"{e.content_hash[:12]} ({e.file_name})" for e in matches)
            raise LandingError(f"{len(matches)} loaded files match {key!r}: give the content hash instead: {listed}")
        return matches[0]

    def withdraw(self, key: str, *, restore: bool = False) -> E:
        """Mark a loaded file as withdrawn (or withdrawn no more); its bytes and rows stay in the store."""
        with self._locked():
            entry = self.find(key)
            if restore and entry.withdrawn_at is None:
                raise LandingError(f"{entry.file_name} ({entry.content_hash[:12]}) is not withdrawn")
            if not restore and entry.withdrawn_at is not None:
                raise LandingError(
                    f"{entry.file_name} ({entry.content_hash[:12]}) was already withdrawn on {entry.withdrawn_at}"
                )
            changed = replace(entry, withdrawn_at=None if restore else now_utc())
            manifest = self._read()
            manifest.files = [changed if e.content_hash == entry.content_hash else e for e in manifest.files]
            self._write(manifest)
        return changed

    # -- internals ---------------------------------------------------------------------------------

    def _stage(self, path: Path) -> NewFile:
        """Copy the file into the store while hashing it, so the hash is of exactly the bytes kept."""
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        staged = staging / f"{uuid.uuid4().hex[:8]}-{path.name}"
        with path.open("rb") as source, staged.open("wb") as target:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                target.write(chunk)
                size += len(chunk)
        return NewFile(path, staged, digest.hexdigest(), size)

    def _reject(self, item: NewFile, refused: Refused, landing: Path) -> RejectedFile:
        """Move the original aside; in a folder this user may not change, leave it and say what to do."""
        reason = refused.reason
        try:
            moved = str(move_aside(item.original, reason, landing))
        except OSError as exc:
            if exc.errno not in _NOT_WRITABLE:
                raise
            reason += (
                f"; it could not be moved to {landing / REJECTED_DIR} ({exc.strerror}): the landing folder is "
                f"read-only for this user. Make {landing} writable, or remove the file yourself; it is not read again"
            )
            moved = ""
        return RejectedFile(item.original.name, refused.table, reason, now_utc(), moved, item.content_hash)

    def _read(self) -> _Manifest[E]:
        path = self.root / MANIFEST
        if not path.exists():
            return _Manifest()
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):  # the INMET store's first format: the accepted files alone
            data = {"files": data}
        names = {f.name for f in fields(self.entry_type)}  # type: ignore[arg-type]
        return _Manifest(
            files=[self.entry_type(**{k: v for k, v in e.items() if k in names}) for e in data.get("files", [])],
            rejected=[RejectedFile(**{"table": "", **entry}) for entry in data.get("rejected", [])],
        )

    def _write(self, manifest: _Manifest[E]) -> None:
        payload = {"files": [asdict(e) for e in manifest.files], "rejected": [asdict(r) for r in manifest.rejected]}
        write_atomic(self.root / MANIFEST, json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: two runs racing would both load a new file. Re-entrant in one process."""
        if getattr(self, "_holding", False):
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._holding = True
            try:
                yield
            finally:
                self._holding = False
                fcntl.flock(handle, fcntl.LOCK_UN)
                shutil.rmtree(self.root / "staging", ignore_errors=True)
