package gateway

import (
	"encoding/json"
	"net/http"

	"fengqiao"
)

// graphQLError answers a request refused before GraphQL ran, in the GraphQL
// response shape so that clients read every error the same way.
func graphQLError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{
		"message":    fengqiao.ErrorMessage(err),
		"extensions": map[string]any{"code": fengqiao.ErrorCode(err)},
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
