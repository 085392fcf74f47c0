"""AWS adapters behind the domain's ports. Clients are made lazily and honour AWS_ENDPOINT_URL."""
