"""Every flag raised anywhere is one of `models.flags.Flag`, and every flag has a reason a reader sees."""

from __future__ import annotations

import importlib
import pkgutil

import models
import service
from models.flags import REASONS, Flag
from service.web.layout import FLAG_REASONS, flag_reason


def _modules() -> list[str]:
    names = []
    for package in (models, service):
        for found in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(found.name)
    return names


def test_every_flag_constant_in_the_code_is_a_flag_with_a_reason() -> None:
    constants = {}
    for name in _modules():
        if name.startswith(("service.jobs.ray_runner",)):  # needs Ray to import
            continue
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if attribute.startswith("FLAG_") and isinstance(value, str):
                constants[f"{name}.{attribute}"] = value
    assert constants, "no flag constants found"
    strays = {where: value for where, value in constants.items() if not isinstance(value, Flag)}
    assert not strays, f"flags spelled outside models.flags: {strays}"
    assert set(REASONS) == set(Flag)


def test_the_page_explains_every_flag_including_subtitle_cues() -> None:
    assert set(FLAG_REASONS) == {str(flag) for flag in Flag}
    assert "cues" in flag_reason("split_across_cues")
