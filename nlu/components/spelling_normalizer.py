"""Rasa component that gives every token its normalised spelling as its lemma.

It runs right after the tokenizer. The featurizers read token lemmas (`use_lemma` is on by
default), so `مسؤول`, `مسئول` and `مسوول` become one feature, and so do Tigrinya words written with
either of two Ge'ez letters for one sound. The message text and token offsets stay as written, so
entity extraction and the spans it reports are unaffected.
"""

# Rasa validates a pipeline by comparing components' type hints with its own `typing` ones.
# ruff: noqa: UP006, UP019, UP035, UP045

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import normalize
from nlu.components.fingerprint import source_fingerprint
from nlu.normalize import normalize_text


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SpellingNormalizer(GraphComponent):  # type: ignore[misc]
    """Sets each text token's lemma to its `normalize_text` spelling."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpellingNormalizer:
        return cls()

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        # Rasa caches each step's output by class name and config; a change to the normalisation
        # rules must invalidate that cache, or a retrained model would reuse stale features.
        return source_fingerprint(normalize)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                token.lemma = normalize_text(token.lemma) or token.lemma
        return messages
