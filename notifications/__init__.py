"""Notifications: the client hears about their order — taken (with the tracking link), the courier on
the way, delivered, late with an apology, cancelled — by SMS (an SMS.ru-style HTTP gateway) or
Telegram (Bot API). Templates per event and language are editable by admins; a message is written by
the outbox relay's projector (once per order and event), sent by a pump of the relay's loop with
retries, backoff and a parked state, logged, and shown in the client's dossier. See
docs/notifications.md."""
