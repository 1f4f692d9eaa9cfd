module example.com/apisrv

go 1.19
