"""The `failover` command line: argv in, exit code out; the only place that prints or exits."""
