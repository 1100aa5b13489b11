"""Outbound notices: who is due (planning), the outbox jobs (queueing), and sending them (delivery)."""
