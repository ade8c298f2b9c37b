"""Dash: ``AttributeDict`` (callback_context.args_grouping, inputs, states...)."""

from __future__ import annotations

from ..standins import AttributeDict
from ._base import DictPayloadTag


class AttributeDictTag(DictPayloadTag):
    """Attribute access survives; kombu_dash.AttributeDict where dash is not installed."""

    key = "dash.AttributeDict"
    module, name = "dash._utils", "AttributeDict"
    stand_in = AttributeDict


TAGS = (AttributeDictTag,)
