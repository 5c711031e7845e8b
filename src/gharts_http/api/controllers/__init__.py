"""HTTP controllers, one module per endpoint group; :data:`ROUTE_HANDLERS` lists them all."""
