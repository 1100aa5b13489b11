"""webhooks: Twilio's calls into the service (the top layer, an edge).

Design
- `twilio_request`: what every Twilio webhook shares: the strict form parser (invalid UTF-8 and
  oversize bodies are refused, not guessed at) and the X-Twilio-Signature check against the public URL.
- `sms`: POST /webhooks/sms: check, hand the text to bot.conversation, answer in TwiML.
A caller's bad request is answered with a specific 4xx and logged without personal data; our own
failures are raised (courier's error policy).
"""
