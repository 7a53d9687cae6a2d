"""Rasa component: Rasa's LogisticRegressionClassifier with its regularisation strength `C`
as a setting (Rasa fixes scikit-learn's default, 1.0).

Stronger regularisation (smaller C) spreads weight over more features, so a message whose words
no training sentence holds leans less on one rare n-gram; nlu/README.md records the values
compared by cross-validation and on the development set, and which was chosen.
"""

# Rasa validates a pipeline by comparing components' type hints with its own `typing` ones.
# ruff: noqa: UP006, UP019, UP035

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RegularisedLogisticRegression(LogisticRegressionClassifier):  # type: ignore[misc]
    """Logistic regression (balanced classes, as Rasa's) with inverse regularisation `C`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        strength = float(self.config["C"])
        if strength <= 0:
            raise InvalidConfigException("RegularisedLogisticRegression: C must be above 0")
        self.clf.set_params(C=strength)
