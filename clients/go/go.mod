module github.com/gharts/gharts/clients/go

go 1.19
