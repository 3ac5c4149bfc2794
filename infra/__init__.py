"""Twilio failover as code: declare each line's failover in lines.yaml, reconcile with Pulumi."""

__version__ = "0.2.0"
