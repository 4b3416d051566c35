"""Every model of the JetStream API: one msgspec Struct per schema type, and the enums as
`Literal` types (generated from the server's JSON schemas).

`jetstream` itself re-exports all of them but the request bodies (``StreamInfoRequest`` ...), whose
fields the generated methods take as arguments: import those from here.
"""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as _generated_all
from ._public import export as _export

__all__ = [
    *_generated_all,  # pyright: ignore[reportUnsupportedDunderAll]  (star-imported above: re-exported)
]

_export(__name__, globals(), __all__)
