"""Notifications service: invitation delivery by e-mail, SMS and webhook, opt-outs and RSVP intake."""
