module github.com/example/fleet

go 1.19
