"""Train the Rasa NLU model, cached by a fingerprint of everything that goes into it.

The fingerprint covers the generated Rasa project (pipeline config, every example, the FAQ
responses) and the Rasa version, so editing ``faq.yml`` or any intent file retrains at the next
start, while an unchanged project reuses the cached model (training takes minutes).
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from nlu.dataset import Example, load_dataset, write_rasa_project
from nlu.faq import load_catalog
from nlu.paths import FAQ_FILE, RASA_VERSION
from nlu.rasa_env import RasaSetupError, ensure_rasa_env, rasa_subprocess_env
from nlu.settings import NluSettings


def project_fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256(f"rasa=={RASA_VERSION}\n".encode())
    for path in sorted(p for p in project_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def models_dir(cache_dir: Path) -> Path:
    path = cache_dir / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _written_project(examples: list[Example]):
    """The generated Rasa project of ``examples`` in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="stammgast-nlu-") as tmp:
        project = Path(tmp) / "project"
        write_rasa_project(project, examples, load_catalog(FAQ_FILE))
        yield project


def _model_file(settings: NluSettings, project: Path, name: str) -> Path:
    return models_dir(settings.cache_dir) / f"{name}-{project_fingerprint(project)}.tar.gz"


def cached_model(settings: NluSettings, examples: list[Example] | None = None, name: str = "nlu") -> Path | None:
    """The cached model for ``examples`` (default: the full data set), or None if it needs training."""
    with _written_project(load_dataset() if examples is None else examples) as project:
        model = _model_file(settings, project, name)
    return model if model.exists() else None


def ensure_model(settings: NluSettings, examples: list[Example] | None = None, name: str = "nlu",
                 progress=print) -> Path:
    """Return the path of a trained model for ``examples`` (default: the full data set),
    training it only when no model with the same fingerprint is cached in ``settings.cache_dir``."""
    examples = load_dataset() if examples is None else examples
    with _written_project(examples) as project:
        model = _model_file(settings, project, name)
        if model.exists():
            return model
        with _exclusive(model.with_suffix(".lock")):
            if not model.exists():  # another process may have trained it meanwhile
                _train(settings, project, model, len(examples), progress)
                _prune(name, keep=model)
    return model


def _prune(name: str, keep: Path, keep_count: int = 3) -> None:
    """Keep the newest few models of a kind (about 90 MB each); an older checkout may still use one."""
    own_kind = re.compile(rf"^{re.escape(name)}-[0-9a-f]{{20}}\.tar\.gz$")
    models = sorted((m for m in keep.parent.iterdir() if own_kind.match(m.name)),
                    key=lambda m: m.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][keep_count - 1:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".lock").unlink(missing_ok=True)


def _train(settings: NluSettings, project: Path, model: Path, example_count: int, progress) -> None:
    rasa = ensure_rasa_env(settings, progress)
    progress(f"Training the NLU model on {example_count} examples (takes a few minutes on 2 cores) ...")
    started = time.monotonic()
    out = project / "models"
    result = subprocess.run(
        [str(rasa), "train", "nlu", "--config", "config.yml", "--nlu", "data", "--domain", "domain.yml",
         "--out", str(out), "--fixed-model-name", "model", "--num-threads", "2"],
        cwd=project, env=rasa_subprocess_env(),
    )
    trained = out / "model.tar.gz"
    if result.returncode != 0 or not trained.exists():
        raise RasaSetupError(f"Rasa training failed (exit code {result.returncode}); see its output above.")
    partial = model.with_suffix(".partial")
    shutil.move(trained, partial)  # the temporary directory may be on another file system
    partial.replace(model)  # atomic: a model file is either complete or absent
    progress(f"Model trained in {time.monotonic() - started:.0f} s: {model}")


class _exclusive:
    """An inter-process lock, so two commands never train the same model at once."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.handle = open(self.path, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
