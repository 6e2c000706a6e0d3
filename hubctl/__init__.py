"""hubctl: the operator CLI for what `pulumi` itself does not do (offline plan, config checks, docs)."""
