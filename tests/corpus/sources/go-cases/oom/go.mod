module example.com/logindex

go 1.19
