"""One module per framework whose containers kombu_dash carries.

None of them imports its framework at import time: classes are named as
``"module:QualName"`` strings and resolved once the framework is loaded.
"""

from . import (
    aiohttp_multidict,
    celery,
    dash,
    dash_components,
    django,
    numpy,
    pandas,
    plotly,
    standins,
    starlette,
    werkzeug,
    yarl,
)

FRAMEWORK_TAGS = (
    *standins.TAGS,
    *starlette.TAGS,
    *werkzeug.TAGS,
    *aiohttp_multidict.TAGS,
    *dash.TAGS,
    *celery.TAGS,
    *dash_components.TAGS,
    *plotly.TAGS,
    *numpy.TAGS,
    *django.TAGS,
    *pandas.TAGS,
    *yarl.TAGS,
)

__all__ = ["FRAMEWORK_TAGS"]
