"""The business of Stammgast: customers and consent, conversation steps, the outbox of
proactive messages, and (in later features) loyalty, surveys, complaints, campaigns and
milestones.

Rules are plain functions and small classes; use cases take a database session as their
first argument. Never imports telegram or bot.
"""
