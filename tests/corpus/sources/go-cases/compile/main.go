package main

import (
	"log"
	"net/http"

	"example.com/apisrv/api"
)

func main() {
	log.Fatal(http.ListenAndServe(":8080", api.Routes(&api.Handler{})))
}
