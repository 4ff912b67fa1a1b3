"""Where things live on disk: the project root, its two environments, models, var/."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv" / "bin" / "rasa"
MODELS_DIR = ROOT / "models"
DOMAIN_DIR = ROOT / "bot" / "domain"
ENDPOINTS = ROOT / "bot" / "endpoints.yml"
CREDENTIALS = ROOT / "bot" / "credentials.yml"


def backend_python() -> Path:
    """The backend environment's interpreter (``XF_BACKEND_PYTHON`` overrides)."""
    return Path(os.environ.get("XF_BACKEND_PYTHON", ROOT / ".venv-backend" / "bin" / "python"))


def var_dir() -> Path:
    """Runtime state: SQLite database, embedded queue, spool (``XF_VAR_DIR``)."""
    path = Path(os.environ.get("XF_VAR_DIR", ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def latest_model() -> Path | None:
    """The newest trained model, if any."""
    models = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None
