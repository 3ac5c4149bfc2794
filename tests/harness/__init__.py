"""Shared test machinery: the provider host, the engine model, the program engine, the CLI
runner, golden files and invariants. Tests, benchmarks and the double's users import from here.
"""
