"""Custom Rasa components, loaded by Rasa (Python 3.10, `.venv-rasa`) from `nlu/config.yml`.

The `*_normalizer` and `*_featurizer` modules import Rasa; the pure code they delegate to
(`lookup_matching`, `fingerprint`, and `nlu.normalize`) does not, so the app's tests import it.
"""
