"""Grafana dashboards for the DCA supervisor, generated in code with grafana-foundation-sdk (see README.md)."""
