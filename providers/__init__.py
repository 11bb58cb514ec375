"""The gateways a site speaks to: the environment's own, and the providers its owner adds in
the settings page (keys encrypted at rest), with an ordered list of providers per model and
each provider's health over the last day."""
