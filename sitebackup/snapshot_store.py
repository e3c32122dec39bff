"""Reading and writing snapshots in storage (the format is in ``sitebackup.manifest``).

Read side, for restore, ``snapshots`` and prune::

    store = SnapshotStore(meta_container_client, "backups", "www")
    for ref in store.list():              # newest first, from one listing (no blob reads)
        header = store.header(ref)        # one small blob
        for page in store.pages(header):  # one request per page, PAGE_ENTRIES files at most
            for entry in page:
                content = resolve(backup_container_client, header.prefix, entry)

``find`` picks a snapshot by run id (or a unique start of one), ``latest``, or "as of" a
time. ``resolve`` says which stored content holds an entry: the base blob when its
Content-MD5 equals the entry's MD5, else the newest blob snapshot of that blob with that MD5,
else None (the content is gone: restore reports the file, it never writes other content).
``ContentIndex`` does the same for many entries of one blob prefix with one listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from sitebackup import layout, manifest, run_streams, storage
from sitebackup import settings as cfg
from sitebackup.errors import echo
from sitebackup.manifest import Entry, Header, ManifestError, PageRef
from sitebackup.naming import blob_name

LATEST = "latest"


@dataclass(frozen=True)
class SnapshotRef:
    """A snapshot as its header's name tells it (no read needed)."""

    key: str
    run_id: str
    ended_ms: int
    blob: str  # the header's name in the meta container


@dataclass(frozen=True)
class StoredContent:
    """Where an entry's bytes are: a blob of the backup container, or one of its snapshots."""

    blob: str
    snapshot: str | None = None  # the snapshot id (a timestamp), None for the base blob


def meta_container(env: Mapping[str, str] | None = None) -> ContainerClient:
    """The meta container's client on the backup storage account (from the app settings)."""
    settings = cfg.load(env)
    service = _service(env, settings)
    return storage.container_client(service, settings.meta_container)


def _service(env: Mapping[str, str] | None, settings: cfg.Settings) -> BlobServiceClient:
    return storage.service_client(
        storage.resolve_target(env),
        pool_size=settings.http_pool_size,
        single_put_size=settings.block_size_mb * 1024 * 1024,
        block_size=settings.block_size_mb * 1024 * 1024,
    )


class SnapshotStore:
    """The snapshots of one destination (backup container + prefix) in the meta container."""

    def __init__(self, meta: ContainerClient, container: str, prefix: str) -> None:
        self.meta = meta
        self.container = container
        self.prefix = prefix

    # -- reading -------------------------------------------------------------------------

    def list(self) -> Iterator[SnapshotRef]:
        """Every snapshot of the destination, newest first (the keys sort that way)."""
        folder = layout.snapshots_folder(self.container, self.prefix)
        try:
            for name in self.meta.list_blob_names(name_starts_with=folder):
                rest = name[len(folder) :]
                if "/" in rest or not rest.endswith(".json"):
                    continue
                key = layout.key_of_blob(name)
                try:
                    ended = layout.ended_ms_of(key)
                    run_id = layout.run_id_of(key)
                except (ValueError, IndexError):
                    continue  # not one of ours
                yield SnapshotRef(key=key, run_id=run_id, ended_ms=ended, blob=name)
        except ResourceNotFoundError:
            return  # no meta container yet: no snapshots

    def header(self, ref: SnapshotRef) -> Header:
        data = self._read(ref.blob)
        try:
            header = manifest.decode_header(data)
        except ManifestError as exc:
            raise ManifestError(f"snapshot {ref.run_id}: {exc}") from None
        return header

    def find(self, wanted: str, *, as_of_ms: int | None = None) -> SnapshotRef | None:
        """``latest``, a run id or a unique start of one; or the newest that ended at or
        before ``as_of_ms``. None when nothing matches; ManifestError when ambiguous."""
        refs = self.list()
        if as_of_ms is not None:
            return next((ref for ref in refs if ref.ended_ms <= as_of_ms), None)
        if wanted == LATEST:
            return next(refs, None)
        matches = [ref for ref in refs if ref.run_id.startswith(wanted)]
        exact = [ref for ref in matches if ref.run_id == wanted]
        if exact:
            return exact[0]
        if len(matches) > 1:
            raise ManifestError(
                f"snapshot {echo(wanted)} is ambiguous: it starts {len(matches)} run ids "
                f"({', '.join(ref.run_id for ref in matches[:3])}...)"
            )
        return matches[0] if matches else None

    def page(self, page: PageRef) -> list[Entry]:
        """One page of a snapshot's entries (one request), checked against its count."""
        entries = manifest.decode_entries(self._read(page.name))
        if len(entries) != page.count:
            raise ManifestError(
                f"page {page.name} holds {len(entries)} entries, the header says {page.count}"
            )
        return entries

    def pages(self, header: Header) -> Iterator[list[Entry]]:
        """The snapshot's entries, one page (one request) at a time."""
        for page in header.pages:
            yield self.page(page)

    def entries(self, header: Header) -> Iterator[Entry]:
        for page in self.pages(header):
            yield from page

    def entries_by_path(self, header: Header) -> Iterator[Entry]:
        """The snapshot's entries in path order: its sorted runs (``run_streams.entry_runs``)
        merged lazily, one page per run in memory. A run that went backwards (the tree
        changed during its walk) stays out of order there."""
        by_name = {page.name: page for page in header.pages}

        def run(names: list[str]) -> Iterator[Entry]:
            for name in names:
                yield from self.page(by_name[name])

        return run_streams.by_path(run(names) for names in run_streams.entry_runs(header.pages))

    def read_entries(self, name: str) -> list[Entry]:
        return manifest.decode_entries(self._read(name))

    def read_lines(self, name: str) -> list[dict]:
        """A run page of plain JSON objects (e.g. the files one partition must copy)."""
        return list(manifest.decode_lines(self._read(name)))

    def _read(self, name: str) -> bytes:
        try:
            return self.meta.download_blob(name, max_concurrency=1).readall()
        except ResourceNotFoundError:
            raise ManifestError(f"{echo(name)} is missing from the meta container") from None
        except AzureError as exc:
            raise storage.failure(exc, f"reading {echo(name)}") from None

    # -- writing -------------------------------------------------------------------------

    def ensure(self) -> None:
        storage.ensure_container(self.meta)

    def write_page(self, name: str, data: bytes) -> None:
        self._put(name, data, "application/gzip")

    def write_header(self, header: Header) -> str:
        """One put: a reader sees no header or the whole of it. Returns its name."""
        name = layout.snapshot_blob(self.container, self.prefix, header.ended_ms, header.run_id)
        self._put(name, manifest.encode_header(header), "application/json")
        return name

    def _put(self, name: str, data: bytes, content_type: str) -> None:
        try:
            self.meta.upload_blob(
                name,
                data,
                length=len(data),
                overwrite=True,
                content_settings=ContentSettings(content_type=content_type),
                max_concurrency=1,
            )
        except AzureError as exc:
            raise storage.failure(exc, f"writing {echo(name)}") from None


def _md5_of(blob) -> bytes | None:
    settings = blob.content_settings
    md5 = settings.content_md5 if settings else None
    return bytes(md5) if md5 else None


def pick(versions: Iterable, md5: bytes) -> StoredContent | None:
    """Among one blob's listing items (base and snapshots), the content with ``md5``:
    the base blob first, else the newest snapshot."""
    base: StoredContent | None = None
    newest: tuple[str, StoredContent] | None = None
    for item in versions:
        if _md5_of(item) != md5:
            continue
        snapshot = getattr(item, "snapshot", None)
        if not snapshot:
            base = StoredContent(item.name)
        elif newest is None or snapshot > newest[0]:
            newest = (snapshot, StoredContent(item.name, snapshot))
    return base or (newest[1] if newest else None)


def resolve(backup: ContainerClient, prefix: str, entry: Entry) -> StoredContent | None:
    """Which stored content holds ``entry`` (see the module docstring)."""
    name = blob_name(prefix, entry.path)
    try:
        props = backup.get_blob_client(name).get_blob_properties()
    except ResourceNotFoundError:
        props = None
    except AzureError as exc:
        raise storage.failure(exc, f"reading the properties of {echo(name)}") from None
    if props is not None and _md5_of(props) == entry.md5:
        return StoredContent(name)
    try:
        versions = [
            item
            for item in backup.list_blobs(name_starts_with=name, include=["snapshots"])
            if item.name == name
        ]
    except AzureError as exc:
        raise storage.failure(exc, f"listing the snapshots of {echo(name)}") from None
    return pick(versions, entry.md5)


class ContentIndex:
    """Resolves many entries with one listing of the prefix (base blobs and snapshots).

    Holds one small tuple per stored version, so it suits a restore or check of a whole
    snapshot; for a handful of files ``resolve`` costs less.
    """

    def __init__(self, backup: ContainerClient, prefix: str) -> None:
        self.prefix = prefix
        self._versions: dict[str, list[tuple[str | None, bytes | None]]] = {}
        head = f"{prefix}/" if prefix else ""
        try:
            for item in backup.list_blobs(
                name_starts_with=head or None, include=["snapshots"], results_per_page=5000
            ):
                self._versions.setdefault(item.name, []).append(
                    (getattr(item, "snapshot", None), _md5_of(item))
                )
        except ResourceNotFoundError:
            pass
        except AzureError as exc:
            raise storage.failure(exc, "listing the backup's blobs and snapshots") from None

    def resolve(self, entry: Entry) -> StoredContent | None:
        name = blob_name(self.prefix, entry.path)
        versions = self._versions.get(name, [])
        if any(snapshot is None and md5 == entry.md5 for snapshot, md5 in versions):
            return StoredContent(name)
        snapshots = sorted(
            (snapshot for snapshot, md5 in versions if snapshot and md5 == entry.md5),
            reverse=True,
        )
        return StoredContent(name, snapshots[0]) if snapshots else None
