package main

import (
	"fmt"
	"example.com/kvserver/store"
)

func main() {
	s := store.New()
	s.Set("greeting", []byte("hello"))
	if v, ok := s.Get("greeting"); ok { fmt.Println(string(v)) }
}
