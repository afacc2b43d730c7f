package service

import (
	"encoding/json"
	"net/http"
)

// HealthHandler serves /healthz (the process is alive), /readyz (every
// dependency answers; 503 otherwise, with the failing checks in the body)
// and /metrics (Prometheus's text format, see Metrics).
func (d *Deps) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.Metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		checks := d.Ready(r.Context())
		status, code := "ready", http.StatusOK
		for _, c := range checks {
			if !c.OK {
				status, code = "not ready", http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": checks})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
