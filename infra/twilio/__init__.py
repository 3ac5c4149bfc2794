"""Everything that talks to Twilio's REST API: the client (retries, uploads, error translation)
and the operations on Serverless, TaskRouter, Studio and numbers that providers and account
reads share. The only package that imports ``twilio.rest``, ``twilio.http`` or ``twilio.base``.
"""
