"""Rasa featurizer: one feature per lookup table, counting the message's words that belong to it.

Rasa's own RegexFeaturizer matches lookup entries as whole words of the text as written, which
misses `بالمستشفى` for `مستشفى`, `ይወቕዓኒ` for `ይወቕዕ` and every spelling variant. This one matches
normalised word beginnings (`lookup_matching`), so a table of domain vocabulary (`nlu/data/
cues.yml`) lets the classifier recognise words that no training sentence contains.

The vocabulary lists were written with the training sentences in view, so nearly every training
example hits them while real messages hit them less often. A classifier trained on that would
learn to distrust every message without a hit; leaving the lookup features out of a fixed share
of training examples (`training_dropout`) keeps it learning from the words themselves too.
"""

# Rasa validates a pipeline by comparing components' type hints with its own `typing` ones.
# ruff: noqa: UP006, UP019, UP035, UP045

from __future__ import annotations

import json
import zlib
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import normalize
from nlu.components import lookup_matching
from nlu.components.fingerprint import source_fingerprint
from nlu.components.lookup_matching import LookupMatcher

TABLES_FILE = "lookup_tables.json"
# Message property with the names of the lookup tables a message's words belong to, for
# components later in the pipeline (`emergency_preference`); not part of Rasa's answer.
MATCHED_TABLES = "matched_lookup_tables"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class LookupFeaturizer(SparseFeaturizer, GraphComponent):  # type: ignore[misc]
    """Sentence feature: words per lookup table (times `weight`); sequence feature: 0/1."""

    @classmethod
    def required_components(cls) -> List[Type[Any]]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            "weight": 0.5,
            "training_dropout": 0.3,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        tables: Optional[Dict[Text, List[Text]]] = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._tables = tables or {}
        self._matcher = LookupMatcher(self._tables)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LookupFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LookupFeaturizer:
        with model_storage.read_from(resource) as directory:
            tables = json.loads((directory / TABLES_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, execution_context, tables)

    def train(self, training_data: TrainingData) -> Resource:
        self._tables = {
            table["name"]: [str(entry) for entry in table["elements"]]
            for table in training_data.lookup_tables
            if isinstance(table["elements"], list)
        }
        self._matcher = LookupMatcher(self._tables)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / TABLES_FILE).write_text(
                json.dumps(self._tables, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 0 <= float(config["training_dropout"]) < 1:
            raise InvalidConfigException("LookupFeaturizer: training_dropout must be in [0, 1)")
        if float(config["weight"]) <= 0:
            raise InvalidConfigException("LookupFeaturizer: weight must be positive")

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        # Rasa caches each step's output by class name and config; a change to the matching
        # rules must invalidate that cache, or a retrained model would reuse stale features.
        return source_fingerprint(lookup_matching, normalize)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            if example.get(TEXT):
                self._add_features(example, dropped=self._dropped(example.get(TEXT)))
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT):
                self._add_features(message, dropped=False)
        return messages

    def _dropped(self, text: Text) -> bool:
        """Whether this training text goes without lookup features: the same texts every time."""
        share = float(self._config["training_dropout"])
        return zlib.crc32(text.encode("utf-8")) % 1000 < share * 1000

    def _add_features(self, message: Message, *, dropped: bool) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        if not tokens:
            return
        # Every message gets features of the same width, zeros when dropped: the classifier
        # stacks the feature rows of all examples into one matrix.
        column = {name: index for index, name in enumerate(self._matcher.names)}
        sequence = np.zeros((len(tokens), len(column)))
        matched: set[str] = set()
        if not dropped:
            for row, names in enumerate(self._matcher.matches([token.text for token in tokens])):
                matched |= names
                for name in names:
                    sequence[row, column[name]] = 1.0
        message.set(MATCHED_TABLES, sorted(matched))
        sentence = sequence.sum(axis=0, keepdims=True) * float(self._config["weight"])
        self.add_features_to_message(
            scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence), TEXT, message
        )
