"""Consuming: messages and acks, pull consumers (next/fetch/messages/consume), the ordered consumer."""
