"""Deployed diagrams: files stored once per content hash, numbered process versions, cached specs."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import UnknownProcess, ValidationFailed
from .models import Deployment, DeploymentFile, ProcessVersion, StoredFile
from .state import SERIALIZER, canonical_json
from .validation import ParsedProcess, validate_bundle

CURRENT_TTL = 10.0  # seconds a process keeps taking a process's newest version as current


@dataclass(frozen=True)
class DeployedVersion:
    """One process of a deployment and the version it got (or kept, when unchanged)."""

    process_id: str
    version: int
    created: bool


def read_bundle(paths: list[str | Path]) -> dict[str, bytes]:
    """Read `.bpmn` files and form `.json` files from files and folders, keyed by their relative name."""
    files: dict[str, bytes] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.suffix in (".bpmn", ".json") and child.is_file():
                    files[child.relative_to(path).as_posix()] = child.read_bytes()
        elif path.is_file():
            files[path.name] = path.read_bytes()
            forms = path.parent / "forms"
            if path.suffix == ".bpmn" and forms.is_dir():
                for form in sorted(forms.glob("*.json")):
                    files.setdefault(f"forms/{form.name}", form.read_bytes())
        else:
            raise FileNotFoundError(f"{given}: no such file or folder")
    return files


class SpecStore:
    """Stores deployed versions and hands out parsed specs, cached per version."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._files: dict[int, dict[str, bytes]] = {}  # deployment id → its files by name, then by base name
        self._versions: dict[int, ProcessVersion] = {}
        self._current: dict[str, tuple[float, ProcessVersion | None]] = {}

    def deploy(self, session: Session, files: dict[str, bytes], actor: str, now: datetime,
               lanes: set[str] | None = None) -> list[DeployedVersion]:
        """Validate and store files; give each changed process a new version (identical files: no-op)."""
        result = validate_bundle(files, lanes)
        if not result.ok:
            raise ValidationFailed(result.problems)
        changed: list[tuple[ParsedProcess, str, str]] = []
        outcome: list[DeployedVersion] = []
        for process in result.processes.values():
            spec_text = _spec_text(process)
            spec_hash = hashlib.sha256(spec_text.encode()).hexdigest()
            latest = self.latest(session, process.process_id, required=False)
            if latest is not None and latest.spec_hash == spec_hash:
                outcome.append(DeployedVersion(process.process_id, latest.version, False))
            else:
                changed.append((process, spec_text, spec_hash))
        if not changed:
            return outcome
        self._current.clear()  # new versions: start them from now on in this process
        deployment = Deployment(deployed_at=now, deployed_by=actor, bundle_hash=_bundle_hash(files))
        session.add(deployment)
        session.flush()
        digests = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        for name, digest in digests.items():
            if session.get(StoredFile, digest) is None:
                session.add(StoredFile(content_hash=digest, content=files[name], size=len(files[name]),
                                       created_at=now))
                session.flush()
        session.add_all(DeploymentFile(deployment_id=deployment.id, name=name, content_hash=digest)
                        for name, digest in sorted(digests.items()))
        for process, spec_text, spec_hash in changed:
            number = (session.scalar(select(func.max(ProcessVersion.version))
                                     .where(ProcessVersion.process_id == process.process_id)) or 0) + 1
            session.add(ProcessVersion(process_id=process.process_id, version=number, name=process.name,
                                       deployment_id=deployment.id, file_name=process.file_name,
                                       spec_hash=spec_hash, spec=spec_text, deployed_at=now, deployed_by=actor))
            outcome.append(DeployedVersion(process.process_id, number, True))
        session.flush()
        return sorted(outcome, key=lambda v: v.process_id)

    def latest(self, session: Session, process_id: str, required: bool = True) -> ProcessVersion | None:
        """The newest version of a process."""
        version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                 .order_by(ProcessVersion.version.desc()).limit(1))
        if version is None and required:
            raise UnknownProcess(f"no process '{process_id}' is deployed; run `doorstep bpmn deploy` first")
        return version

    def version(self, session: Session, version_id: int) -> ProcessVersion:
        """A process version's row (versions never change once deployed: kept once read, per process), as a copy
        bound to no session, shared by every request of this process."""
        row = self._versions.get(version_id)
        if row is None:
            stored = session.get(ProcessVersion, version_id)
            if stored is None:
                raise UnknownProcess(f"no process version {version_id}")
            row = self._versions[version_id] = _unbound_copy(stored)
        return row

    def current(self, session: Session, process_id: str) -> ProcessVersion | None:
        """The newest version of a process as this process last saw it, at most CURRENT_TTL seconds ago (a
        version deployed by another process is started from within that time; deploying here forgets at once).
        Starting cases asks this, not `latest`, on every request."""
        cached = self._current.get(process_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = self.latest(session, process_id, required=False)
        row = _unbound_copy(found) if found is not None else None
        self._current[process_id] = (time.monotonic() + CURRENT_TTL, row)
        if row is not None:
            self._versions.setdefault(row.id, row)
        return row

    def parsed(self, session: Session, version_id: int) -> tuple[Any, dict[str, Any]]:
        """The spec and called-process specs of a version, parsed once per process."""
        cached = self._cache.get(version_id)
        if cached is None:
            row = session.get(ProcessVersion, version_id)
            if row is None:
                raise UnknownProcess(f"no process version {version_id}")
            stored = json.loads(row.spec)
            spec = SERIALIZER.registry.restore(stored["spec"])
            subprocess_specs = {k: SERIALIZER.registry.restore(v) for k, v in stored["subprocess_specs"].items()}
            cached = self._cache[version_id] = (spec, subprocess_specs)
        return cached

    def file(self, session: Session, version: ProcessVersion, name: str) -> bytes | None:
        """A file deployed with a version, by its name or, for forms, by its base name."""
        files = self._files.get(version.deployment_id)
        if files is None:  # a deployment's files never change: read them once per process
            rows = session.execute(select(DeploymentFile.name, StoredFile.content)
                                   .join(StoredFile, StoredFile.content_hash == DeploymentFile.content_hash)
                                   .where(DeploymentFile.deployment_id == version.deployment_id)
                                   .order_by(DeploymentFile.name)).all()
            files = {file_name: bytes(content) for file_name, content in rows}
            for file_name, content in rows:
                files.setdefault(PurePath(file_name).name, bytes(content))
            self._files[version.deployment_id] = files
        return files.get(name)


def _unbound_copy(row: ProcessVersion) -> ProcessVersion:
    """A copy of a version row's columns that belongs to no session."""
    return ProcessVersion(**{column.key: getattr(row, column.key) for column in ProcessVersion.__table__.columns})


def _spec_text(process: ParsedProcess) -> str:
    stored = {
        "spec": SERIALIZER.registry.convert(process.spec),
        "subprocess_specs": {k: SERIALIZER.registry.convert(v) for k, v in sorted(process.subprocess_specs.items())},
    }
    return canonical_json(stored)


def _bundle_hash(files: dict[str, bytes]) -> str:
    listing = [(name, hashlib.sha256(content).hexdigest()) for name, content in sorted(files.items())]
    return hashlib.sha256(canonical_json(listing).encode()).hexdigest()
