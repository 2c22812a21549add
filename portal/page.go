package portal

// pageRoutes registers the page (placeholder until the page lands).
func (h *Handler) pageRoutes() {}
