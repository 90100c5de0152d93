"""A demo agency website that signs citizens in through Portal Ciudadano (OpenID Connect)."""
