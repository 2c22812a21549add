package portal

// routes registers every route on h.mux. Paths are relative to BasePath.
func (h *Handler) routes() {
	h.mux.HandleFunc("GET /session", h.serveSession)
	h.mux.HandleFunc("GET /theme.css", h.serveTheme) // theme.go: Config.Theme
	h.apiRoutes()                                    // api.go: the JSON API under /api/
	h.pageRoutes()                                   // page.go: the HTML page
}
