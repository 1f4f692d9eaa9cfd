package main

import (
	"fmt"

	"example.com/vetdemo/sync"
)

func main() {
	var c sync.Cache
	fmt.Println(c.Describe())
}
