"""Model files that cannot run foreign code: write, hash, and verify before loading.

joblib files are pickles, and unpickling runs whatever code the file names.
So a file is only deserialised when all of these hold, checked in this order
and before a single byte is unpickled:

1. it is registered in the database (the registry row is the trust anchor);
2. it lives under this machine's ``<data dir>/models/`` folder;
3. the running Python, scikit-learn, joblib, NumPy and SciPy versions equal
   the registered ones (a pickle from other versions may misbehave);
4. the ``manifest.json`` beside it equals the registered manifest;
5. the SHA-256 of its bytes equals the registered hash. The bytes hashed are
   the bytes unpickled (read once, loaded from memory), so the file cannot be
   swapped between the check and the load.

Anything else raises ``ArtefactRefused`` with the reason.

The database also keeps each registered file's bytes (``harm_model_file``),
so a machine that did not train the model (another client of a team server,
a pulled laptop) can use it: ``install`` writes those bytes, with the
registered manifest, into this machine's ``<data dir>/models/<model id>/``,
only when they hash to the registered SHA-256, and the file is then loaded
through ``load_verified`` like any other, all five checks included.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
from pathlib import Path
from typing import Any

import joblib
import numpy
import scipy
import sklearn

from triage import paths

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"


class ArtefactRefused(Exception):
    """A model file that will not be loaded, and why."""


def models_dir() -> Path:
    folder = paths.data_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def runtime_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(folder: Path, model: Any, manifest: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Write ``model`` and its manifest (completed with file hash and versions)."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    data = buffer.getvalue()
    target = folder / MODEL_FILE
    target.write_bytes(data)
    manifest = {
        **manifest,
        "file": MODEL_FILE,
        "sha256": sha256_bytes(data),
        "size_bytes": len(data),
        "versions": runtime_versions(),
    }
    _write_manifest(folder, manifest)
    return target, manifest


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
    )


def install(model_id: str, data: bytes, sha256: str, manifest: dict[str, Any]) -> Path:
    """Write a registered model's stored bytes and manifest into this machine's
    ``models/<model_id>/``, or raise ``ArtefactRefused`` (nothing written) when
    the bytes do not hash to the registered SHA-256. Returns the file's path;
    load it with ``load_verified``."""
    actual = sha256_bytes(data)
    if actual != sha256 or manifest.get("sha256") != sha256:
        raise ArtefactRefused(
            f"the stored copy of model {model_id} has SHA-256 {actual[:12]}..., registered "
            f"{sha256[:12]}...: it was changed after training, so it is not written or loaded"
        )
    home = models_dir().resolve()
    folder = home / model_id
    if folder.resolve().parent != home:
        raise ArtefactRefused(f"model id {model_id!r} does not name a folder in {home}")
    folder.mkdir(exist_ok=True)
    _write_manifest(folder, manifest)
    # The model file last and whole (renamed into place): a file present is complete.
    partial = folder / (MODEL_FILE + ".partial")
    partial.write_bytes(data)
    os.replace(partial, folder / MODEL_FILE)
    return folder / MODEL_FILE


def load_verified(path: str | Path, sha256: str, manifest: dict[str, Any]) -> Any:
    """Unpickle the registered artefact at ``path``, or raise ``ArtefactRefused``."""
    path = Path(path)
    home = models_dir().resolve()
    try:
        resolved = path.resolve(strict=True)
    except OSError:
        raise ArtefactRefused(f"model file {path} is missing") from None
    if not resolved.is_relative_to(home):
        raise ArtefactRefused(f"model file {path} is outside this machine's model folder {home}")
    registered = manifest.get("versions", {})
    running = runtime_versions()
    differences = [
        f"{name} {registered.get(name)} registered, {value} running"
        for name, value in running.items()
        if registered.get(name) != value
    ]
    if differences:
        raise ArtefactRefused(
            f"model file {path} was trained with other library versions ({'; '.join(differences)});"
            " retrain it with `triage model train`"
        )
    try:
        beside = json.loads((resolved.parent / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ArtefactRefused(f"manifest beside {path} is unreadable: {error}") from None
    if beside != manifest:
        raise ArtefactRefused(f"manifest beside {path} differs from the registered manifest")
    data = resolved.read_bytes()
    actual = sha256_bytes(data)
    if actual != sha256 or manifest.get("sha256") != sha256:
        raise ArtefactRefused(
            f"model file {path} has SHA-256 {actual[:12]}..., registered {sha256[:12]}...: "
            "it was changed or replaced after training, so it is not loaded"
        )
    return joblib.load(io.BytesIO(data))
