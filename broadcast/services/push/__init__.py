"""Push delivery (MQTT): ringing stations about an emergency, recording their acknowledgements, and
escalating the silent ones. The database stays the truth; without a broker stations poll."""

from .acks import AckBatchTooLarge, AckResult, ingest_acks, record_acks, record_acks_of_stations
from .delivery import PushStats, cancel_at_stations, escalate, push_emergency, resend

__all__ = [
    "AckBatchTooLarge",
    "AckResult",
    "PushStats",
    "cancel_at_stations",
    "escalate",
    "ingest_acks",
    "push_emergency",
    "record_acks",
    "record_acks_of_stations",
    "resend",
]
