"""The model cache key follows exactly the files that shape the model."""

from __future__ import annotations

import shutil
from pathlib import Path

from nlu.service import NLU_DIR, training_hash, training_inputs


def copy_nlu(tmp_path: Path) -> Path:
    target = tmp_path / "nlu"
    shutil.copytree(NLU_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_hash_is_stable(tmp_path: Path) -> None:
    nlu = copy_nlu(tmp_path)
    assert training_hash(nlu) == training_hash(nlu) == training_hash(NLU_DIR)


def test_training_data_and_config_change_the_hash(tmp_path: Path) -> None:
    nlu = copy_nlu(tmp_path)
    before = training_hash(nlu)
    config = nlu / "config.yml"
    config.write_text(config.read_text() + "\n# tweak\n")
    after_config = training_hash(nlu)
    assert after_config != before
    (nlu / "data" / "extra.yml").write_text('version: "3.1"\nnlu: []\n')
    assert training_hash(nlu) != after_config


def test_client_code_does_not_change_the_hash(tmp_path: Path) -> None:
    nlu = copy_nlu(tmp_path)
    before = training_hash(nlu)
    (nlu / "client.py").write_text("# edited\n")
    assert training_hash(nlu) == before
    assert all(path.suffix in {".yml", ".py"} for path in training_inputs(nlu))
    assert nlu / "config.yml" in training_inputs(nlu)
