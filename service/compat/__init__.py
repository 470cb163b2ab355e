"""Drop-in API shapes of other translation services (LibreTranslate, DeepL) over bitext's own pipeline.

Each router speaks its API's request and error shapes; underneath, every text goes through the
same `Translator` (scheduler, cache, metrics), limits and API keys as `/v1/translate`.
"""
