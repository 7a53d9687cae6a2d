"""Rasa component: emergency wins when it is nearly as likely as the top intent and the message
uses words of danger.

A missed emergency costs far more than a false alarm, yet the classifier often ranks a real
emergency second behind `health` ("my father's chest hurts, he is sweating and grey"). Moving
emergency to the top whenever it is within `margin` of the top intent catches those, but on its
own also turns many ordinary health questions into false alarms. Requiring a word from one of
the danger vocabularies (`tables`, matched by `LookupFeaturizer`) keeps the false alarms few;
nlu/README.md has the measurements behind the defaults.
"""

# Rasa validates a pipeline by comparing components' type hints with its own `typing` ones.
# ruff: noqa: UP006, UP019, UP035

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from nlu.components.lookup_featurizer import MATCHED_TABLES

CONFIDENCE_KEY = "confidence"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyPreference(GraphComponent):  # type: ignore[misc]
    """Puts `intent` first when it is within `margin` of the top and a `tables` word occurs."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent": "emergency",
            "margin": 0.4,
            "tables": ["cue_selfharm", "cue_violence", "cue_acute", "cue_disaster"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent = str(config["intent"])
        self._margin = float(config["margin"])
        self._tables = set(config["tables"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencyPreference:
        if not 0 <= float(config["margin"]) <= 1:
            raise InvalidConfigException("EmergencyPreference: margin must be in [0, 1]")
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._prefer(message)
        return messages

    def _prefer(self, message: Message) -> None:
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        top = message.get(INTENT) or {}
        if not ranking or top.get(INTENT_NAME_KEY) == self._intent:
            return
        if not self._tables.intersection(message.get(MATCHED_TABLES) or []):
            return
        preferred = next((item for item in ranking if item[INTENT_NAME_KEY] == self._intent), None)
        if preferred is None:
            return
        if preferred[CONFIDENCE_KEY] >= float(top.get(CONFIDENCE_KEY) or 0.0) - self._margin:
            message.set(INTENT, dict(preferred), add_to_output=True)
            ranking.remove(preferred)
            message.set(INTENT_RANKING_KEY, [preferred, *ranking], add_to_output=True)
