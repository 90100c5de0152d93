"""Examples of services that integrate with Portal Ciudadano; run from the repository root."""
