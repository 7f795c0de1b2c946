"""The REST layer of the embedded API server, split by idea: status errors,
discovery, handlers, watch, selectors, patch, tables, openapi, conversion."""
