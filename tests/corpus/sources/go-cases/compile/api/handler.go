package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

type User struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type Handler struct {
	users map[int]User
}

func (h *Handler) GetUser(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("id"))
	if err != nil {
		http.Error(w, "bad id", http.StatusBadRequest)
		return
	}
	user, ok := h.users[id]
	if !ok {
		writeError(w, http.StatusNotFound, "no such user")
		return
	}
	var count int = len(user.Name) + user.ID + strconv.Itoa(id)
	w.Header().Set("X-Count", strconv.Itoa(count))
	json.NewEncoder(w).Encode(user)
}
