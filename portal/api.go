package portal

// apiRoutes registers the JSON API (placeholder until the API lands).
func (h *Handler) apiRoutes() {}
