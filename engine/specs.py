"""Deployed diagrams: files stored once per content hash, numbered process versions, cached specs."""

from __future__ import annotations

import hashlib
import json
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
        rows = session.execute(select(DeploymentFile.name, StoredFile.content)
                               .join(StoredFile, StoredFile.content_hash == DeploymentFile.content_hash)
                               .where(DeploymentFile.deployment_id == version.deployment_id)).all()
        for file_name, content in rows:
            if file_name == name or PurePath(file_name).name == name:
                return bytes(content)
        return None


def _spec_text(process: ParsedProcess) -> str:
    stored = {
        "spec": SERIALIZER.registry.convert(process.spec),
        "subprocess_specs": {k: SERIALIZER.registry.convert(v) for k, v in sorted(process.subprocess_specs.items())},
    }
    return canonical_json(stored)


def _bundle_hash(files: dict[str, bytes]) -> str:
    listing = [(name, hashlib.sha256(content).hexdigest()) for name, content in sorted(files.items())]
    return hashlib.sha256(canonical_json(listing).encode()).hexdigest()
