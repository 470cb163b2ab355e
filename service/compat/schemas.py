"""The two APIs' shapes written down for the OpenAPI document (`/docs`): bodies, answers, errors.

The handlers read parameters themselves (forms and JSON alike, in each API's own error shape),
so these models document the contract; they do not validate requests.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class LtError(BaseModel):
    error: str


class LtDetection(BaseModel):
    confidence: float = Field(description="percent, 0–100")
    language: str


class LtTranslateResponse(BaseModel):
    translatedText: str | list[str]  # noqa: N815 - LibreTranslate's field names
    detectedLanguage: LtDetection | list[LtDetection] | None = None  # noqa: N815
    alternatives: list[Any] | None = None


class LtLanguage(BaseModel):
    code: str
    name: str
    targets: list[str]


class DeepLError(BaseModel):
    message: str


class DeepLTranslation(BaseModel):
    detected_source_language: str
    text: str
    billed_characters: int


class DeepLTranslateResponse(BaseModel):
    translations: list[DeepLTranslation]


class DeepLLanguage(BaseModel):
    language: str
    name: str
    supports_formality: bool | None = None


class DeepLUsage(BaseModel):
    character_count: int
    character_limit: int


def body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` for a body sent as JSON, urlencoded or multipart form."""
    schema = {"type": "object", "properties": properties, "required": required}
    content = {
        media: {"schema": schema}
        for media in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
    }
    return {"requestBody": {"required": bool(required), "content": content}}


def errors(model: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": model} for status in statuses}


STRING = {"type": "string"}
TEXTS = {"anyOf": [STRING, {"type": "array", "items": STRING}]}
