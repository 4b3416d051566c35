"""Every model of the JetStream API: one msgspec Struct per schema type, and the enums as
`Literal` types (generated from the server's JSON schemas).

`jetstream` itself re-exports all of them but the request bodies (``StreamInfoRequest`` ...), whose
fields the generated methods take as arguments: import those from here.
"""

from ._generated import models as _generated_models
from ._generated.models import *  # noqa: F403
from ._public import export as _export

# Spelled so type checkers read the export list (pyright understands `+= module.__all__`).
__all__: list[str] = []
__all__ += _generated_models.__all__

_export(__name__, globals(), __all__)
