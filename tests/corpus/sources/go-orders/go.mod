module github.com/example/orders

go 1.19
