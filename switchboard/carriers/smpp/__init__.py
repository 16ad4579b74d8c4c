"""SMPP 3.4 connector: codec, sessions and the carrier built on them (see docs/smpp.md)."""

from switchboard.carriers.smpp.carrier import SmppCarrier
from switchboard.carriers.smpp.config import SmppCarrierConfig

__all__ = ["SmppCarrier", "SmppCarrierConfig"]
