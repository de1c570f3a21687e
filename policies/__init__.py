"""Resource and security policies shipped with sgde (YAML files in this folder)."""
