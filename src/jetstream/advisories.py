"""Typed JetStream advisories and metrics (generated from the server's JSON schemas).

``async for adv in js.advisories(kinds=..., stream=..., consumer=...)`` yields one class per kind:
``ConsumerActionAdvisory``, ``MaxDeliverAdvisory``, ``StreamLeaderElectedAdvisory`` ... (each a
`JetStreamEvent` subclass whose ``type`` is the event's JSON ``type``), or `UnknownAdvisory` for a kind
these schemas do not describe. `decode_advisory` decodes one payload the same way.
"""

from ._advisories._decode import Advisory, UnknownAdvisory, decode_advisory
from ._advisories._stream import Advisories
from ._advisories._subjects import SUBJECTS, Kind
from ._generated.advisories import *  # noqa: F403
from ._generated.advisories import __all__ as _generated_all
from ._public import export as _export

__all__ = [
    "SUBJECTS",
    "Advisories",
    "Advisory",
    "Kind",
    "UnknownAdvisory",
    "decode_advisory",
    *_generated_all,  # pyright: ignore[reportUnsupportedDunderAll]  (star-imported above: re-exported)
]

_export(__name__, globals(), __all__)
