"""Pure translation of a validated HubConfig into upstream formats (no Pulumi imports)."""
