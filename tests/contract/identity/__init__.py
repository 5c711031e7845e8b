"""The identity port: the fake, the JWKS verifier, dev issuers and a real OIDC provider."""
